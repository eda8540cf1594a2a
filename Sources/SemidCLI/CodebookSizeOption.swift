import ArgumentParser
import SemidQuantization

/// The value of a `--codebook-size` option: one size for every level (`256`) or one per level
/// (`1024,256,256`). ``CodebookSizes/resolve(_:levels:defaultLevels:flag:levelsFlag:)`` turns it
/// into per-level sizes with the `--levels` rule.
struct CodebookSizeList: ExpressibleByArgument, CustomStringConvertible {
    /// The sizes as given.
    var sizes: [Int]

    init(_ sizes: [Int]) { self.sizes = sizes }

    init?(argument: String) {
        guard let sizes = CodebookSizes.parse(argument) else { return nil }
        self.sizes = sizes
    }

    var description: String { sizes.map(String.init).joined(separator: ",") }
    var defaultValueDescription: String { description }

    /// Per-level sizes for `levels` (given or not), as a ``ValidationError`` naming the flags.
    func resolved(levels: Int?, defaultLevels: Int, flag: String = "--codebook-size",
                  levelsFlag: String = "--levels") throws -> [Int] {
        do {
            let sizes = try CodebookSizes.resolve(self.sizes, levels: levels, defaultLevels: defaultLevels,
                                                  flag: flag, levelsFlag: levelsFlag)
            let which = { (l: Int) in self.sizes.count > 1 ? " at level \(l + 1)" : "" }
            for (l, k) in sizes.enumerated() {
                if k < 2 { throw ValidationError("\(flag) must be at least 2\(which(l)) (got \(k))") }
                if k > 65_536 { throw ValidationError("\(flag) must be at most 65536\(which(l)) (got \(k))") }
            }
            return sizes
        } catch let error as QuantizationError {
            throw ValidationError(error.description)
        }
    }
}

import SemidQuantization
import SemidMath

extension CapacityPlan {
    /// One candidate ID shape: the codebook size `K_l` of each level.
    ///
    /// Written `LxK` (`3x256`: three levels of 256 codes) or as sizes separated by `/`
    /// (`1024/256/256`), the forms `semid plan --shapes` takes; ``description`` gives the same text
    /// back (`LxK` when every level has the same size).
    public struct Shape: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
        /// The most levels a shape may have.
        public static let maximumLevels = 64

        /// `K_l` for `l = 0..<L`, each in `2…65536`.
        public let codebookSizes: [Int]

        /// Checks the sizes: `1…Shape.maximumLevels` levels, each size in `2…65536`.
        public init(codebookSizes: [Int]) throws {
            let text = codebookSizes.map(String.init).joined(separator: "/")
            guard (1...Shape.maximumLevels).contains(codebookSizes.count) else {
                throw CapacityPlanError.invalidShape(text, expected: "1…\(Shape.maximumLevels) levels")
            }
            for k in codebookSizes where !(2...65_536).contains(k) {
                throw CapacityPlanError.invalidShape(text, expected: "codebook sizes in 2…65536 (got \(k))")
            }
            self.codebookSizes = codebookSizes
        }

        /// Parses `LxK` or `K1/K2/…`; throws ``CapacityPlanError/invalidShape(_:expected:)`` naming the text.
        public init(parsing text: String) throws {
            let expected = "LxK (e.g. 3x256) or sizes separated by '/' (e.g. 1024/256/256)"
            let trimmed = text.trimmingSpaces
            let lowered = trimmed.lowercased()
            if lowered.contains("x") {
                let parts = lowered.split(separator: "x", omittingEmptySubsequences: false)
                guard parts.count == 2, let levels = Int(parts[0]), let size = Int(parts[1]) else {
                    throw CapacityPlanError.invalidShape(text, expected: expected)
                }
                guard (1...Shape.maximumLevels).contains(levels) else {
                    throw CapacityPlanError.invalidShape(text, expected: "1…\(Shape.maximumLevels) levels")
                }
                guard (2...65_536).contains(size) else {
                    throw CapacityPlanError.invalidShape(text, expected: "codebook sizes in 2…65536 (got \(size))")
                }
                try self.init(codebookSizes: Array(repeating: size, count: levels))
                return
            }
            let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
            var sizes: [Int] = []
            for part in parts {
                guard let size = Int(part) else { throw CapacityPlanError.invalidShape(text, expected: expected) }
                sizes.append(size)
            }
            do { try self.init(codebookSizes: sizes) } catch CapacityPlanError.invalidShape(_, let why) {
                throw CapacityPlanError.invalidShape(text, expected: why)
            }
        }

        /// Parses a comma-separated list of shapes (`3x256,4x256,1024/256/256`); at least one.
        public static func parseList(_ text: String) throws -> [Shape] {
            let items = text.split(separator: ",", omittingEmptySubsequences: false)
            let shapes = try items.map { try Shape(parsing: String($0)) }
            guard !shapes.isEmpty else { throw CapacityPlanError.invalidShape(text, expected: "at least one shape") }
            return shapes
        }

        /// The shapes `semid plan` compares by default: 3×256, 4×256, 3×1024, 1024/256/256, 3×8192.
        public static var defaults: [Shape] {
            [[256, 256, 256], [256, 256, 256, 256], [1024, 1024, 1024], [1024, 256, 256], [8192, 8192, 8192]]
                .compactMap { try? Shape(codebookSizes: $0) }
        }

        /// Levels `L` (the ID length before any collision suffix).
        public var levels: Int { codebookSizes.count }
        /// `Σ_l K_l`: the code tokens a model's vocabulary needs for this shape.
        public var vocabulary: Int { codebookSizes.reduce(0, +) }
        /// `Π_l K_l` as a `Double` (it overflows `Int` for long shapes): how many distinct raw IDs exist.
        public var capacity: Double { codebookSizes.reduce(1.0) { $0 * Double($1) } }

        public var description: String {
            if let first = codebookSizes.first, codebookSizes.allSatisfy({ $0 == first }) { return "\(levels)x\(first)" }
            return codebookSizes.map(String.init).joined(separator: "/")
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            try self.init(parsing: try container.decode(String.self))
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

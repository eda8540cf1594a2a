import Foundation

/// Per-level codebook sizes `K_l` as every JSON section that records a quantizer's shape stores
/// them (the index manifest's `parameters`, `parameters.rqvae`, the user-ID settings).
///
/// Written as `levels` + `codebook_size` when every level has the same size — exactly the bytes of
/// indexes written before sizes could differ — and as `levels` + `codebook_sizes` (one entry per
/// level) otherwise. Read back: `codebook_sizes` when present, else `codebook_size` repeated
/// `levels` times.
public enum CodebookSizes {
    /// The most levels a recorded shape may declare (bounds what a reader allocates).
    public static let maximumLevels = 64

    /// Whether every level has the same size (also true for zero or one level).
    public static func isUniform(_ sizes: [Int]) -> Bool {
        guard let first = sizes.first else { return true }
        return sizes.allSatisfy { $0 == first }
    }

    /// `"256"` for one size shared by all levels, else `"1024,256,256"`: how the sizes are given
    /// to `--codebook-size` and shown in tables.
    public static func description(_ sizes: [Int]) -> String {
        if isUniform(sizes), let first = sizes.first { return "\(first)" }
        return sizes.map(String.init).joined(separator: ",")
    }

    /// `"3 × 256"` or `"1024/256/256"`: the shape of an ID for people.
    public static func shape(_ sizes: [Int]) -> String {
        if isUniform(sizes), let first = sizes.first { return "\(sizes.count) × \(first)" }
        return sizes.map(String.init).joined(separator: "/")
    }

    /// Parses a `--codebook-size` value: one integer (every level) or a comma-separated list with
    /// one entry per level. Returns `nil` for anything else (the caller names the flag in its error).
    public static func parse(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= maximumLevels else { return nil }
        var out: [Int] = []
        for part in parts {
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            out.append(value)
        }
        return out
    }

    /// The per-level sizes from a parsed `--codebook-size` list and an optional `--levels`.
    ///
    /// The rule: one value applies to every level; a list gives one size per level. `--levels`,
    /// when given, must equal the list's count (a list of one value excepted); when it is not
    /// given, a list sets the number of levels and a single value uses `defaultLevels`. `flag` and
    /// `levelsFlag` name the options in errors.
    public static func resolve(_ list: [Int], levels: Int?, defaultLevels: Int, flag: String = "codebookSize",
                               levelsFlag: String = "levels") throws -> [Int] {
        guard !list.isEmpty else {
            throw QuantizationError.invalidParameter(name: flag, value: "", expected: "a size, or one size per level separated by commas")
        }
        let count = levels ?? (list.count > 1 ? list.count : defaultLevels)
        guard (1...maximumLevels).contains(count) else {
            throw QuantizationError.invalidParameter(name: levelsFlag, value: "\(count)", expected: "1…\(maximumLevels)")
        }
        if list.count == 1 { return Array(repeating: list[0], count: count) }
        guard list.count == count else {
            throw QuantizationError.invalidParameter(
                name: flag, value: list.map(String.init).joined(separator: ","),
                expected: "one size for every level or exactly \(count) sizes for \(levelsFlag) \(count) (got \(list.count))")
        }
        return list
    }

    /// Writes `sizes` under `levels` and `size` (uniform) or `sizes` (per level).
    public static func encode<Key: CodingKey>(_ sizes: [Int], to container: inout KeyedEncodingContainer<Key>,
                                              levels: Key, size: Key, sizes sizesKey: Key) throws {
        try container.encode(sizes.count, forKey: levels)
        if isUniform(sizes), let first = sizes.first {
            try container.encode(first, forKey: size)
        } else {
            try container.encode(sizes, forKey: sizesKey)
        }
    }

    /// Reads what ``encode(_:to:levels:size:sizes:)`` wrote. A `levels` outside
    /// `1…maximumLevels`, or a `sizes` list whose count is not `levels`, is a
    /// `DecodingError.dataCorrupted` naming the key; the values themselves are checked by the
    /// section's validation.
    public static func decode<Key: CodingKey>(from container: KeyedDecodingContainer<Key>,
                                              levels: Key, size: Key, sizes sizesKey: Key) throws -> [Int] {
        let count = try container.decode(Int.self, forKey: levels)
        guard (1...maximumLevels).contains(count) else {
            throw DecodingError.dataCorruptedError(forKey: levels, in: container,
                                                   debugDescription: "is \(count); expected 1…\(maximumLevels)")
        }
        if let list = try container.decodeIfPresent([Int].self, forKey: sizesKey) {
            guard list.count == count else {
                throw DecodingError.dataCorruptedError(
                    forKey: sizesKey, in: container,
                    debugDescription: "has \(list.count) entries for \(count) levels; expected one size per level")
            }
            return list
        }
        return Array(repeating: try container.decode(Int.self, forKey: size), count: count)
    }
}

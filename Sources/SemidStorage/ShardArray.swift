import Foundation

/// The element type of an array stored in a shard.
public enum ShardDType: UInt32, Codable, Sendable, CaseIterable {
    case float32 = 1
    case int32 = 2
    case uint8 = 3
    case uint16 = 4
    case int64 = 5

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float32, .int32: return 4
        case .uint8: return 1
        case .uint16: return 2
        case .int64: return 8
        }
    }

    /// The short name used in manifests (`f32`, `i32`, `u8`, `u16`, `i64`).
    public var name: String {
        switch self {
        case .float32: return "f32"
        case .int32: return "i32"
        case .uint8: return "u8"
        case .uint16: return "u16"
        case .int64: return "i64"
        }
    }
}

/// An n-dimensional little-endian array: the payload of one shard.
///
/// Encoded as a standard zstd frame whose content is a 24-byte header — magic `SEMIDARR`, format
/// version (u32), dtype (u32), rank (u32), reserved (u32) — then the shape (`rank` × u64) and the
/// row-major data. See `docs/index-format.md`.
public struct ShardArray: Sendable, Equatable {
    /// The element type.
    public var dtype: ShardDType
    /// The shape, outermost first (`[rows, cols]` for a matrix).
    public var shape: [Int]
    /// The raw little-endian element bytes (`shape.product × dtype.byteWidth`).
    public var data: [UInt8]

    /// The shard content format version this code writes and reads.
    public static let formatVersion: UInt32 = 1
    static let magic: [UInt8] = Array("SEMIDARR".utf8)

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// An array of `Float` values with `shape`.
    public init(float32 values: [Float], shape: [Int]) {
        self.dtype = .float32
        self.shape = shape
        self.data = values.withUnsafeBytes { Array($0) }
    }

    /// An array of `Int32` values with `shape`.
    public init(int32 values: [Int32], shape: [Int]) {
        self.dtype = .int32
        self.shape = shape
        self.data = values.withUnsafeBytes { Array($0) }
    }

    /// An array of raw bytes with `shape`.
    public init(uint8 values: [UInt8], shape: [Int]) {
        self.dtype = .uint8
        self.shape = shape
        self.data = values
    }

    /// An array of `UInt16` values with `shape`.
    public init(uint16 values: [UInt16], shape: [Int]) {
        self.dtype = .uint16
        self.shape = shape
        self.data = values.withUnsafeBytes { Array($0) }
    }

    /// An array of `Int64` values with `shape`.
    public init(int64 values: [Int64], shape: [Int]) {
        self.dtype = .int64
        self.shape = shape
        self.data = values.withUnsafeBytes { Array($0) }
    }

    /// An array over raw little-endian element bytes (`shape.product × dtype.byteWidth` bytes).
    public init(dtype: ShardDType, shape: [Int], data: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// The elements as `Float`; throws if the dtype is not `f32`.
    public func float32Values(source: String) throws -> [Float] { try values(.float32, source: source) }
    /// The elements as `Int32`; throws if the dtype is not `i32`.
    public func int32Values(source: String) throws -> [Int32] { try values(.int32, source: source) }
    /// The elements as `UInt16`; throws if the dtype is not `u16`.
    public func uint16Values(source: String) throws -> [UInt16] { try values(.uint16, source: source) }
    /// The elements as `Int64`; throws if the dtype is not `i64`.
    public func int64Values(source: String) throws -> [Int64] { try values(.int64, source: source) }
    /// The elements as bytes; throws if the dtype is not `u8`.
    public func uint8Values(source: String) throws -> [UInt8] {
        guard dtype == .uint8 else { throw InputError(source, "holds \(dtype.name) values, expected u8") }
        return data
    }

    private func values<T>(_ expected: ShardDType, source: String) throws -> [T] {
        guard dtype == expected else {
            throw InputError(source, "holds \(dtype.name) values, expected \(expected.name)")
        }
        let count = data.count / MemoryLayout<T>.stride
        guard count > 0 else { return [] }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                if let target = buffer.baseAddress, let source = raw.baseAddress {
                    _ = memcpy(target, source, count * MemoryLayout<T>.stride)
                }
            }
            initialized = count
        }
    }

    /// The shard bytes: one zstd frame with header and data.
    public func encoded(level: Int32 = Zstd.defaultLevel) throws -> [UInt8] {
        var content = [UInt8]()
        content.reserveCapacity(24 + 8 * shape.count + data.count)
        content += Self.magic
        appendLE(Self.formatVersion, to: &content)
        appendLE(dtype.rawValue, to: &content)
        appendLE(UInt32(shape.count), to: &content)
        appendLE(UInt32(0), to: &content)
        for s in shape { appendLE(UInt64(s), to: &content) }
        content += data
        return try Zstd.compress(content, level: level)
    }

    /// The decompressed size of a shard holding `shape` elements of `dtype` (header, shape and
    /// data), or `nil` when a dimension is negative, the rank is above 8, or the size overflows.
    public static func contentSize(dtype: ShardDType, shape: [Int]) -> Int? {
        guard shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else { return nil }
        var bytes = dtype.byteWidth
        for s in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: s)
            if overflow { return nil }
            bytes = product
        }
        let (total, overflow) = bytes.addingReportingOverflow(24 + 8 * shape.count)
        return overflow ? nil : total
    }

    /// Decodes shard bytes written by ``encoded(level:)``; `source` names the file in errors.
    ///
    /// With `expected` (the dtype and shape the manifest lists), the zstd frame's declared content
    /// size must be exactly what that shape needs, checked before anything is allocated, and the
    /// header must declare that very dtype and shape; without it the content is limited to 16 GiB.
    /// The header's shape is overflow-checked either way.
    public init(decoding frame: [UInt8], source: String, expected: (dtype: ShardDType, shape: [Int])? = nil) throws {
        var expectedSize: Int?
        if let expected {
            guard let size = Self.contentSize(dtype: expected.dtype, shape: expected.shape) else {
                throw InputError(source, "the manifest's shape \(expected.shape) of \(expected.dtype.name) is not a valid shard shape (negative, rank above 8, or too large)")
            }
            expectedSize = size
        }
        let content = try Zstd.decompress(frame, source: source, expectedSize: expectedSize)
        guard content.count >= 24, Array(content[0..<8]) == Self.magic else {
            throw InputError(source, "not a semid shard (missing SEMIDARR header)")
        }
        let version: UInt32 = readLE(content, at: 8)
        guard version <= Self.formatVersion else {
            throw InputError(source, "shard format version \(version) is newer than this semid supports (\(Self.formatVersion)); upgrade semid")
        }
        let rawType: UInt32 = readLE(content, at: 12)
        guard let dtype = ShardDType(rawValue: rawType) else {
            throw InputError(source, "unknown element type code \(rawType)")
        }
        let rank = Int(readLE(content, at: 16) as UInt32)
        guard rank <= 8, content.count >= 24 + 8 * rank else {
            throw InputError(source, "shard header is truncated or has rank \(rank)")
        }
        var shape: [Int] = []
        for r in 0..<rank {
            let s: UInt64 = readLE(content, at: 24 + 8 * r)
            guard s < (1 << 40) else { throw InputError(source, "implausible shape entry \(s)") }
            shape.append(Int(s))
        }
        let start = 24 + 8 * rank
        guard let size = Self.contentSize(dtype: dtype, shape: shape) else {
            throw InputError(source, "shard header declares shape \(shape) of \(dtype.name), too large to address")
        }
        guard content.count == size else {
            throw InputError(source, "shape \(shape) of \(dtype.name) needs \(size - start) bytes of data, shard holds \(content.count - start)")
        }
        // Equal sizes do not make equal shapes (any shape with a 0 has no data).
        if let expected, expected.dtype != dtype || expected.shape != shape {
            throw InputError(source, "shard holds \(dtype.name) \(shape), the manifest says \(expected.dtype.name) \(expected.shape)")
        }
        self.init(dtype: dtype, shape: shape, data: Array(content[start...]))
    }
}

@inline(__always) func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
}

@inline(__always) func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
    bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
}

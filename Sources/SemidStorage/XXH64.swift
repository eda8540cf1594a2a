/// The 64-bit xxHash (XXH64, seed 0): a fast non-cryptographic checksum used to fingerprint large
/// input files. The hex digest matches `xxhsum -H1 FILE`.
public struct XXH64: Sendable {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64, v2: UInt64, v3: UInt64, v4: UInt64
    private var total: UInt64 = 0
    private var pending: [UInt8] = []

    /// A fresh hash with seed 0.
    public init() {
        v1 = Self.p1 &+ Self.p2
        v2 = Self.p2
        v3 = 0
        v4 = 0 &- Self.p1
        pending.reserveCapacity(32)
    }

    /// The 16-digit lowercase hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var h = XXH64()
        h.update(bytes)
        return h.finalizeHex()
    }

    @inline(__always) private static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        var a = acc &+ lane &* p2
        a = (a << 31) | (a >> 33)
        return a &* p1
    }

    @inline(__always) private static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        (acc ^ round(0, v)) &* p1 &+ p4
    }

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        total &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(32 - pending.count, bytes.count)
            pending += bytes[0..<take]
            offset = take
            if pending.count == 32 {
                pending.withUnsafeBytes { stripe($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        guard let base = bytes.baseAddress else { return }
        while bytes.count - offset >= 32 {
            stripe(base + offset)
            offset += 32
        }
        if offset < bytes.count { pending += bytes[offset...] }
    }

    /// Feeds more bytes.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    @inline(__always) private mutating func stripe(_ p: UnsafeRawPointer) {
        v1 = Self.round(v1, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
        v2 = Self.round(v2, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        v3 = Self.round(v3, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
        v4 = Self.round(v4, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// The digest as a 64-bit value.
    public func finalize() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57)) &+ ((v3 << 12) | (v3 >> 52)) &+ ((v4 << 18) | (v4 >> 46))
            h = Self.merge(h, v1)
            h = Self.merge(h, v2)
            h = Self.merge(h, v3)
            h = Self.merge(h, v4)
        } else {
            h = Self.p5
        }
        h &+= total
        var i = 0
        let tail = pending
        while i + 8 <= tail.count {
            var lane: UInt64 = 0
            for b in 0..<8 { lane |= UInt64(tail[i + b]) << (8 * UInt64(b)) }
            h ^= Self.round(0, lane)
            h = ((h << 27) | (h >> 37)) &* Self.p1 &+ Self.p4
            i += 8
        }
        if i + 4 <= tail.count {
            var lane: UInt64 = 0
            for b in 0..<4 { lane |= UInt64(tail[i + b]) << (8 * UInt64(b)) }
            h ^= lane &* Self.p1
            h = ((h << 23) | (h >> 41)) &* Self.p2 &+ Self.p3
            i += 4
        }
        while i < tail.count {
            h ^= UInt64(tail[i]) &* Self.p5
            h = ((h << 11) | (h >> 53)) &* Self.p1
            i += 1
        }
        h ^= h >> 33
        h &*= Self.p2
        h ^= h >> 29
        h &*= Self.p3
        h ^= h >> 32
        return h
    }

    /// The digest as 16 lowercase hex digits (as `xxhsum -H1` prints it).
    public func finalizeHex() -> String {
        let s = String(finalize(), radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

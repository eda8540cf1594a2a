import SemidMath
/// A growable, manually managed buffer of `Float`s for activations, gradients and parameters.
///
/// Training loops work on raw pointers (BLAS takes them anyway); a class that owns one
/// allocation avoids copy-on-write checks and exclusivity traps of `[Float]` in hot loops, and
/// ``reserve(_:)`` lets a workspace be sized once for the largest batch and reused.
public final class FloatBuffer: @unchecked Sendable {
    /// The storage; valid for ``capacity`` values until the next ``reserve(_:)`` that grows it.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// Allocated values.
    public private(set) var capacity: Int

    /// A buffer of `count` values, all `value`.
    public init(count: Int, value: Float = 0) {
        capacity = max(1, count)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: value, count: capacity)
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// Makes room for at least `count` values; grown storage is zero-filled and old content is lost.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count + count / 4
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    /// Sets the first `count` values to zero.
    @inlinable
    public func zero(_ count: Int) {
        precondition(count <= capacity)
        pointer.update(repeating: 0, count: count)
    }

    /// A copy of the first `count` values.
    public func array(_ count: Int) -> [Float] {
        precondition(count <= capacity)
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Read-only view of the storage.
    public var constPointer: UnsafePointer<Float> { UnsafePointer(pointer) }
}

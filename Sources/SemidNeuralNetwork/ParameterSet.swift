import SemidMath

/// All trainable tensors of a model in one flat buffer, with a gradient buffer of the same
/// layout, so that the optimiser (``AdamW`` over ``values`` and ``gradients``), gradient
/// clipping and zeroing are single loops. Registering a tensor is O(its values); lookups by name
/// are O(1).
public final class ParameterSet: @unchecked Sendable {
    /// One named tensor: a range of the flat buffers.
    public struct Entry: Sendable, Equatable {
        /// The tensor's name, e.g. `"layer0.attention.qkv.weight"`.
        public var name: String
        /// Its shape, outermost first.
        public var shape: [Int]
        /// The first value in the flat buffers.
        public var offset: Int
        /// Whether AdamW applies weight decay to it (weight matrices yes; biases, norms no).
        public var decay: Bool
        /// The number of values.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The tensors, in registration order.
    public private(set) var entries: [Entry] = []
    private var byName: [String: Int] = [:]
    /// The flat parameter values.
    public private(set) var values = FloatBuffer(count: 1)
    /// The flat gradients (same layout).
    public private(set) var gradients = FloatBuffer(count: 1)
    /// The total number of values.
    public private(set) var count = 0

    /// An empty set; add tensors with ``add(_:shape:decay:initializer:)`` then call ``finalize()``.
    public init() {}

    private var pending: [[Float]] = []

    /// Registers a tensor initialised by `initializer(i)` for each value `i`; returns its index.
    @discardableResult
    public func add(_ name: String, shape: [Int], decay: Bool, initializer: (Int) -> Float) -> Int {
        precondition(byName[name] == nil, "duplicate parameter \(name)")
        let entry = Entry(name: name, shape: shape, offset: count, decay: decay)
        let n = entry.count
        pending.append((0..<n).map(initializer))
        entries.append(entry)
        byName[name] = entries.count - 1
        count += n
        return entries.count - 1
    }

    /// Registers a tensor with the given initial values; returns its index.
    @discardableResult
    public func add(_ name: String, shape: [Int], decay: Bool, values: [Float]) -> Int {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        return add(name, shape: shape, decay: decay) { values[$0] }
    }

    /// Allocates the flat buffers and copies the initial values in.
    public func finalize() {
        values = FloatBuffer(count: count)
        gradients = FloatBuffer(count: count)
        for (entry, initial) in zip(entries, pending) {
            initial.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { (values.pointer + entry.offset).update(from: base, count: entry.count) }
            }
        }
        pending = []
    }

    /// The entry named `name`, if any.
    public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// A pointer to the values of `name` (which must exist).
    public func value(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { preconditionFailure("no parameter \(name)") }
        return values.pointer + e.offset
    }

    /// A pointer to the gradient of `name` (which must exist).
    public func gradient(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { preconditionFailure("no parameter \(name)") }
        return gradients.pointer + e.offset
    }

    /// Whether a tensor named `name` exists.
    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.zero(count) }

    /// A copy of the values of `name`.
    public func copy(_ name: String) -> [Float] {
        guard let e = entry(name) else { return [] }
        return Array(UnsafeBufferPointer(start: values.pointer + e.offset, count: e.count))
    }

    /// Overwrites the values of `name` (sizes must match).
    public func set(_ name: String, _ newValues: [Float]) {
        guard let e = entry(name) else { preconditionFailure("no parameter \(name)") }
        precondition(newValues.count == e.count, "\(name): \(newValues.count) values for shape \(e.shape)")
        newValues.withUnsafeBufferPointer { src in (values.pointer + e.offset).update(from: src.baseAddress!, count: e.count) }
    }

    /// A snapshot of all values (for keeping the best epoch).
    public func snapshot() -> [Float] { values.array(count) }

    /// Restores a ``snapshot()``.
    public func restore(_ snapshot: [Float]) {
        precondition(snapshot.count == count)
        snapshot.withUnsafeBufferPointer { values.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// The ranges of the flat buffers that get weight decay (the entries marked `decay`), in order.
    public var decayedRanges: [Range<Int>] {
        entries.filter(\.decay).map { $0.offset..<($0.offset + $0.count) }
    }
}

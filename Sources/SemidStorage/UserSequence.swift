/// One user's interaction history: the items they interacted with, oldest first.
public struct UserSequence: Sendable, Equatable {
    /// The user id, a non-negative integer.
    public var user: Int
    /// Item ids in the order the file gives them (chronological in the bundled datasets);
    /// never empty when read from a file.
    public var items: [Int]

    /// Creates a sequence.
    public init(user: Int, items: [Int]) {
        self.user = user
        self.items = items
    }
}

extension UserSequence {
    /// The items of the leave-one-out training part: all but the last `heldOut` items (the last
    /// is the test target, the second-last the validation target when `heldOut` is 2).
    public func trainingItems(heldOut: Int = 2) -> ArraySlice<Int> {
        items.dropLast(heldOut)
    }
}

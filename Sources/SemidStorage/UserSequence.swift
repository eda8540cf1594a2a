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

/// One item of a catalog: its dense integer id and the optional text that describes it.
public struct ItemRecord: Sendable, Equatable {
    /// The item id, a non-negative integer; row `id` of the embedding matrix is this item.
    public var id: Int
    /// The item's id in the source dataset (e.g. an Amazon ASIN), if the file gives one.
    public var sourceID: String?
    /// The item's title, if the file gives one (kept exactly as written, even if empty).
    public var title: String?
    /// The text that was embedded for this item, if the file gives one.
    public var text: String?

    /// Creates a record.
    public init(id: Int, sourceID: String? = nil, title: String? = nil, text: String? = nil) {
        self.id = id
        self.sourceID = sourceID
        self.title = title
        self.text = text
    }
}

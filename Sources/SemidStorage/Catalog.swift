/// One row of the catalog: an item, where it came from and its final semantic ID.
public struct CatalogItem: Sendable, Equatable {
    /// Dense item id (row of the embeddings).
    public var id: Int
    /// The id in the user's source system (e.g. an ASIN), if given.
    public var sourceID: String?
    /// A human-readable title, if given.
    public var title: String?
    /// The final semantic ID (`idLength` codes).
    public var semanticID: [Int32]
    /// 0 for items of the original build, `k` for the `k`-th `semid add`.
    public var batch: Int

    /// Creates a catalog row.
    public init(id: Int, sourceID: String?, title: String?, semanticID: [Int32], batch: Int) {
        self.id = id
        self.sourceID = sourceID
        self.title = title
        self.semanticID = semanticID
        self.batch = batch
    }

    /// The semantic ID as text, codes joined by `-` (e.g. `12-7-201-0`), as stored in the catalog.
    public var semanticIDText: String { Catalog.text(of: semanticID) }
}

/// One user of the catalog's `users` table: the user's semantic ID.
public struct CatalogUser: Sendable, Equatable {
    /// Dense user id (as in the sequences file).
    public var id: Int
    /// The final user semantic ID.
    public var semanticID: [Int32]
    /// Items in the user's training history when the ID was made.
    public var historyLength: Int
    /// 0 for users of the first `semid users`, `k` for the `k`-th addition.
    public var batch: Int

    /// Creates a catalog row.
    public init(id: Int, semanticID: [Int32], historyLength: Int, batch: Int) {
        self.id = id
        self.semanticID = semanticID
        self.historyLength = historyLength
        self.batch = batch
    }
}

/// The index's SQLite catalog (`catalog.sqlite`): items with source id, title and semantic ID,
/// looked up by item, by full ID or by ID prefix. Readable with the `sqlite3` shell:
///
/// ```
/// sqlite3 beauty.semid/catalog.sqlite "SELECT item, semantic_id, title FROM items WHERE c0 = 12 LIMIT 5"
/// ```
///
/// A catalog opened read-only may be shared by several threads (the connection is serialized).
public final class Catalog: @unchecked Sendable {
    /// The connection.
    public let database: SQLiteDatabase
    /// Number of codes per semantic ID (columns `c0 … c{idLength-1}`).
    public let idLength: Int

    /// The longest item or user ID a catalog may declare (a sanity bound for `meta.id_length`
    /// and `meta.user_id_length` read from a file; real IDs have a handful of codes).
    public static let maximumIDLength = 256

    /// The semantic ID as text, codes joined by `-`.
    public static func text(of id: [Int32]) -> String { id.map(String.init).joined(separator: "-") }

    /// Creates a new catalog file at `path` (which must not exist) for IDs of `idLength` codes.
    public static func create(at path: String, idLength: Int) throws -> Catalog {
        let db = try SQLiteDatabase(path: path, mode: .create)
        let codeColumns = (0..<idLength).map { "c\($0) INTEGER NOT NULL" }.joined(separator: ", ")
        let codeList = (0..<idLength).map { "c\($0)" }.joined(separator: ", ")
        try db.execute("""
            PRAGMA journal_mode = DELETE;
            PRAGMA page_size = 4096;
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE items (
                item INTEGER PRIMARY KEY,
                source_id TEXT,
                title TEXT,
                semantic_id TEXT NOT NULL,
                \(codeColumns),
                batch INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX items_by_code ON items (\(codeList), item);
            CREATE INDEX items_by_source_id ON items (source_id);
            """)
        let catalog = Catalog(database: db, idLength: idLength)
        try catalog.setMeta("id_length", "\(idLength)")
        return catalog
    }

    /// Opens an existing catalog; `readOnly` unless it will be modified.
    public static func open(at path: String, readOnly: Bool = true) throws -> Catalog {
        let db = try SQLiteDatabase(path: path, mode: readOnly ? .readOnly : .readWrite)
        let statement = try db.prepare("SELECT value FROM meta WHERE key = 'id_length'")
        guard try statement.step(), let text = statement.text(0), let length = Int(text), length > 0 else {
            throw InputError(path, field: "meta.id_length", "missing or invalid: not a semid catalog")
        }
        guard length <= maximumIDLength else {
            throw InputError(path, field: "meta.id_length", "is \(length), more than the \(maximumIDLength) codes an ID may have")
        }
        return Catalog(database: db, idLength: length)
    }

    init(database: SQLiteDatabase, idLength: Int) {
        self.database = database
        self.idLength = idLength
    }

    /// Stores a key/value pair in the `meta` table.
    public func setMeta(_ key: String, _ value: String) throws {
        let s = try database.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
        try s.bind(key, at: 1)
        try s.bind(value, at: 2)
        try s.step()
    }

    /// Inserts `items` in one transaction (ids must be new).
    public func insert(_ items: [CatalogItem]) throws {
        try insert(count: items.count) { items[$0] }
    }

    /// Inserts `count` items made by `item(0..<count)` (ids must be new) in one transaction, so a
    /// catalog of millions of items is written without holding its rows: memory is one row plus
    /// SQLite's bounded page cache (dirty pages beyond it are spilled to the file). The bytes are
    /// those of ``insert(_:)`` with the same rows.
    ///
    /// - Parameter progress: called every 65,536 items and at the end with the items inserted so far.
    /// - Complexity: `O(count · log count)` for the B-tree inserts.
    public func insert(count: Int, progress: ((Int) -> Void)? = nil, item: (Int) throws -> CatalogItem) throws {
        let codeList = (0..<idLength).map { "c\($0)" }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: idLength + 5).joined(separator: ", ")
        try database.transaction {
            let s = try database.prepare(
                "INSERT INTO items (item, source_id, title, semantic_id, batch, \(codeList)) VALUES (\(placeholders))")
            for position in 0..<Swift.max(count, 0) {
                let item = try item(position)
                guard item.semanticID.count == idLength else {
                    throw InputError(database.path, field: "item \(item.id)",
                                     "semantic ID has \(item.semanticID.count) codes, the catalog expects \(idLength)")
                }
                try s.bind(item.id, at: 1)
                try s.bind(item.sourceID, at: 2)
                try s.bind(item.title, at: 3)
                try s.bind(item.semanticIDText, at: 4)
                try s.bind(item.batch, at: 5)
                for (l, code) in item.semanticID.enumerated() { try s.bind(Int(code), at: Int32(6 + l)) }
                try s.step()
                s.reset()
                if (position + 1) % 65_536 == 0 { progress?(position + 1) }
            }
        }
        progress?(Swift.max(count, 0))
    }

    /// Number of items.
    public func count() throws -> Int {
        let s = try database.prepare("SELECT COUNT(*) FROM items")
        try s.step()
        return s.int(0)
    }

    /// The item with dense id `id`, or `nil`.
    public func item(_ id: Int) throws -> CatalogItem? {
        let s = try database.prepare("\(selectColumns) WHERE item = ?")
        try s.bind(id, at: 1)
        return try s.step() ? row(s) : nil
    }

    /// The items whose semantic ID starts with `prefix` (1 … idLength codes), ordered by ID then item.
    public func items(withPrefix prefix: [Int32], limit: Int = Int.max) throws -> [CatalogItem] {
        let used = min(prefix.count, idLength)
        let conditions = (0..<used).map { "c\($0) = ?" }.joined(separator: " AND ")
        let order = ((0..<idLength).map { "c\($0)" } + ["item"]).joined(separator: ", ")
        let s = try database.prepare(
            "\(selectColumns)\(used > 0 ? " WHERE \(conditions)" : "") ORDER BY \(order) LIMIT ?")
        for l in 0..<used { try s.bind(Int(prefix[l]), at: Int32(l + 1)) }
        try s.bind(min(limit, Int(Int32.max)), at: Int32(used + 1))
        var out: [CatalogItem] = []
        while try s.step() { out.append(row(s)) }
        return out
    }

    /// Every item, ordered by id.
    public func allItems() throws -> [CatalogItem] {
        let s = try database.prepare("\(selectColumns) ORDER BY item")
        var out: [CatalogItem] = []
        while try s.step() { out.append(row(s)) }
        return out
    }

    /// Titles of the given items (missing or untitled items are absent).
    public func titles(of ids: [Int]) throws -> [Int: String] {
        let s = try database.prepare("SELECT title FROM items WHERE item = ?")
        var out: [Int: String] = [:]
        for id in ids {
            try s.bind(id, at: 1)
            if try s.step(), let t = s.text(0) { out[id] = t }
            s.reset()
        }
        return out
    }

    private var selectColumns: String {
        "SELECT item, source_id, title, batch, " + (0..<idLength).map { "c\($0)" }.joined(separator: ", ") + " FROM items"
    }

    private func row(_ s: SQLiteStatement) -> CatalogItem {
        CatalogItem(id: s.int(0), sourceID: s.text(1), title: s.text(2),
                    semanticID: (0..<idLength).map { Int32(truncatingIfNeeded: s.int(Int32(4 + $0))) },
                    batch: s.int(3))
    }

    // MARK: Users

    /// Creates (or, with `replace`, re-creates) the `users` table for user IDs of `idLength` codes.
    public func createUsersTable(idLength: Int, replace: Bool) throws {
        let codeColumns = (0..<idLength).map { "c\($0) INTEGER NOT NULL" }.joined(separator: ", ")
        let codeList = (0..<idLength).map { "c\($0)" }.joined(separator: ", ")
        try database.execute("""
            \(replace ? "DROP TABLE IF EXISTS users;" : "")
            CREATE TABLE users (
                user INTEGER PRIMARY KEY,
                semantic_id TEXT NOT NULL,
                \(codeColumns),
                history_length INTEGER NOT NULL,
                batch INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX users_by_code ON users (\(codeList), user);
            """)
        try setMeta("user_id_length", "\(idLength)")
    }

    /// Inserts `users` in one transaction.
    public func insertUsers(_ users: [CatalogUser]) throws {
        guard let length = try userIDLength() else {
            throw InputError(database.path, field: "users", "the catalog has no users table")
        }
        let codeList = (0..<length).map { "c\($0)" }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: length + 4).joined(separator: ", ")
        try database.transaction {
            let s = try database.prepare(
                "INSERT INTO users (user, semantic_id, history_length, batch, \(codeList)) VALUES (\(placeholders))")
            for user in users {
                guard user.semanticID.count == length else {
                    throw InputError(database.path, field: "user \(user.id)",
                                     "semantic ID has \(user.semanticID.count) codes, the catalog expects \(length)")
                }
                try s.bind(user.id, at: 1)
                try s.bind(Catalog.text(of: user.semanticID), at: 2)
                try s.bind(user.historyLength, at: 3)
                try s.bind(user.batch, at: 4)
                for (l, code) in user.semanticID.enumerated() { try s.bind(Int(code), at: Int32(5 + l)) }
                try s.step()
                s.reset()
            }
        }
    }

    /// The user ID length, or `nil` when the catalog has no users.
    public func userIDLength() throws -> Int? {
        let s = try database.prepare("SELECT value FROM meta WHERE key = 'user_id_length'")
        guard try s.step(), let text = s.text(0) else { return nil }
        guard let length = Int(text), (1...Self.maximumIDLength).contains(length) else {
            throw InputError(database.path, field: "meta.user_id_length", "is \"\(text)\", expected a whole number in 1…\(Self.maximumIDLength)")
        }
        return length
    }

    /// Every user, ordered by id (empty when there is no users table).
    public func allUsers() throws -> [CatalogUser] {
        guard let length = try userIDLength() else { return [] }
        let codes = (0..<length).map { "c\($0)" }.joined(separator: ", ")
        let s = try database.prepare("SELECT user, history_length, batch, \(codes) FROM users ORDER BY user")
        var out: [CatalogUser] = []
        while try s.step() {
            out.append(CatalogUser(id: s.int(0), semanticID: (0..<length).map { Int32(truncatingIfNeeded: s.int(Int32(3 + $0))) },
                                   historyLength: s.int(1), batch: s.int(2)))
        }
        return out
    }
}

import Foundation
import SemidStorage
import SemidTestSupport
import Testing

@Suite("Catalog: the SQLite item catalog")
struct CatalogTests {
    /// Six items with 3-code IDs; item 3 has no title, item 1 no source id.
    static let rows: [CatalogItem] = [
        CatalogItem(id: 0, sourceID: "A0", title: "Zero", semanticID: [2, 1, 0], batch: 0),
        CatalogItem(id: 1, sourceID: nil, title: "One", semanticID: [0, 5, 0], batch: 0),
        CatalogItem(id: 2, sourceID: "A2", title: "Two", semanticID: [2, 0, 1], batch: 0),
        CatalogItem(id: 3, sourceID: "A3", title: nil, semanticID: [2, 1, 1], batch: 1),
        CatalogItem(id: 4, sourceID: "A4", title: "Fünf – \"quoted\"", semanticID: [0, 5, 1], batch: 1),
        CatalogItem(id: 5, sourceID: "A5", title: "Five", semanticID: [2, 0, 0], batch: 0),
    ]

    /// Creates the six-item catalog in `directory` and returns its path.
    static func makeCatalog(in directory: borrowing TemporaryDirectory) throws -> String {
        let path = directory.file("catalog.sqlite")
        let catalog = try Catalog.create(at: path, idLength: 3)
        try catalog.insert(rows)
        return path
    }

    @Test("lookup by item")
    func byItem() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog.open(at: try Self.makeCatalog(in: directory))
        #expect(catalog.idLength == 3)
        #expect(try catalog.count() == 6)
        #expect(try catalog.item(3) == Self.rows[3])
        #expect(try catalog.item(4)?.title == "Fünf – \"quoted\"")
        #expect(try catalog.item(1)?.sourceID == nil)
        #expect(try catalog.item(6) == nil)
        #expect(try catalog.item(-1) == nil)
        #expect(try catalog.allItems() == Self.rows)
        #expect(Self.rows[3].semanticIDText == "2-1-1")
    }

    @Test("lookup by full semantic ID")
    func byFullID() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog.open(at: try Self.makeCatalog(in: directory))
        for row in Self.rows {
            #expect(try catalog.items(withPrefix: row.semanticID) == [row])
        }
        #expect(try catalog.items(withPrefix: [2, 1, 2]).isEmpty)
    }

    @Test("lookup by prefix, ordered by semantic ID")
    func byPrefix() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog.open(at: try Self.makeCatalog(in: directory))
        #expect(try catalog.items(withPrefix: [2]).map(\.id) == [5, 2, 0, 3])  // 2-0-0, 2-0-1, 2-1-0, 2-1-1
        #expect(try catalog.items(withPrefix: [2, 1]).map(\.id) == [0, 3])
        #expect(try catalog.items(withPrefix: [0, 5]).map(\.id) == [1, 4])
        #expect(try catalog.items(withPrefix: [1]).isEmpty)
        #expect(try catalog.items(withPrefix: []).map(\.id) == [1, 4, 5, 2, 0, 3])
        #expect(try catalog.items(withPrefix: [2], limit: 2).map(\.id) == [5, 2])
    }

    @Test("titles of items: untitled and unknown items are absent")
    func titles() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog.open(at: try Self.makeCatalog(in: directory))
        #expect(try catalog.titles(of: [0, 3, 4, 99]) == [0: "Zero", 4: "Fünf – \"quoted\""])
        #expect(try catalog.titles(of: []) == [:])
    }

    @Test("the semantic ID is also stored as text for the sqlite3 shell")
    func textColumn() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog.open(at: try Self.makeCatalog(in: directory))
        let statement = try catalog.database.prepare("SELECT semantic_id FROM items WHERE c0 = 0 ORDER BY item")
        var texts: [String] = []
        while try statement.step() { texts.append(statement.text(0) ?? "NULL") }
        #expect(texts == ["0-5-0", "0-5-1"])
    }

    @Test("bad inserts are rejected and roll back the whole batch")
    func badInserts() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.makeCatalog(in: directory)
        let catalog = try Catalog.open(at: path, readOnly: false)
        let wrongLength = #expect(throws: InputError.self) {
            try catalog.insert([CatalogItem(id: 10, sourceID: nil, title: nil, semanticID: [1, 2, 3], batch: 0),
                                CatalogItem(id: 11, sourceID: nil, title: nil, semanticID: [1, 2], batch: 0)])
        }
        #expect(wrongLength?.description.contains("semantic ID has 2 codes, the catalog expects 3") == true)
        #expect(throws: StorageError.self) {
            try catalog.insert([CatalogItem(id: 3, sourceID: nil, title: nil, semanticID: [0, 0, 0], batch: 0)])
        }
        #expect(try catalog.count() == 6, "nothing of a failed batch is kept")
        #expect(try catalog.item(10) == nil)
    }

    @Test("opening something that is not a semid catalog fails with the file named")
    func notACatalog() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("other.sqlite")
        try SQLiteDatabase(path: path, mode: .create).execute("CREATE TABLE t (x INTEGER)")
        let error = #expect(throws: (any Error).self) { try Catalog.open(at: path) }
        #expect(String(describing: error.map { $0 }).contains("other.sqlite"))
        #expect(throws: StorageError.self) { try Catalog.open(at: directory.file("absent.sqlite")) }
    }
}

import CSQLite

/// A minimal wrapper over one SQLite connection (the system library), used for the catalog.
///
/// Connections are opened in SQLite's serialized threading mode, so one connection may be shared
/// by several threads (each call runs under the connection's mutex); a prepared
/// ``SQLiteStatement`` belongs to the thread that prepared it.
public final class SQLiteDatabase: @unchecked Sendable {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Open an existing file read-only.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create the file (it must not exist) for reading and writing.
        case create
    }

    let handle: OpaquePointer
    /// The path of the database file.
    public let path: String

    /// Opens `path` in `mode`.
    public init(path: String, mode: Mode) throws {
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readOnly: flags = SQLITE_OPEN_READONLY
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .create: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StorageError.sqlite(path: path, code: rc, message: message)
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw StorageError.sqlite(path: path, code: rc, message: message)
        }
    }

    /// A prepared statement for `sql`.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw lastError(rc) }
        return SQLiteStatement(database: self, handle: statement)
    }

    /// Runs `body` inside `BEGIN … COMMIT`, rolling back if it throws.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func lastError(_ rc: Int32) -> StorageError {
        StorageError.sqlite(path: path, code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A prepared SQL statement. Bind parameters (1-based), then ``step()`` through the rows.
public final class SQLiteStatement {
    let database: SQLiteDatabase
    let handle: OpaquePointer

    init(database: SQLiteDatabase, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ value: Int, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, Int64(value)))
    }

    /// Binds text (or NULL) to parameter `index` (1-based). All of the text is bound, NUL
    /// characters included (the length is passed, so nothing is cut at a NUL).
    public func bind(_ value: String?, at index: Int32) throws {
        guard var value else { try check(sqlite3_bind_null(handle, index)); return }
        let rc = value.withUTF8 { bytes -> Int32 in
            guard bytes.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
            // An empty buffer may have no address; SQLite would bind NULL for a null pointer.
            let empty: StaticString = ""
            let start = bytes.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(empty.utf8Start)
            return sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count),
                                     semid_sqlite_transient())
        }
        try check(rc)
    }

    /// Binds a double to parameter `index` (1-based).
    public func bind(_ value: Double, at index: Int32) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Advances to the next row; `false` when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.lastError(rc)
    }

    /// Resets the statement and clears its bindings, to run it again.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// The integer in column `index` (0-based) of the current row.
    public func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    /// The double in column `index` (0-based) of the current row.
    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// The text in column `index` (0-based), or `nil` for NULL; all of it, NUL characters included.
    public func text(_ index: Int32) -> String? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL, let p = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw database.lastError(rc) }
    }
}

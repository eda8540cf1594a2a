import SemidStorage

extension InputFingerprint {
    /// Fingerprints an input that was handed over in memory (e.g. a NumPy array from Python) rather
    /// than read from a file: XXH64 of `bytes` as given, recorded under the name `name` (for
    /// instance `"<numpy float32>"`), so the manifest stays free of times and paths.
    ///
    /// For float32 embeddings the bytes are the row-major little-endian values, which are also
    /// the data part of the equivalent `.npy` file (its header is not included).
    public init(role: String, name: String, bytes: UnsafeRawBufferPointer, rows: Int, columns: Int?) {
        var hash = XXH64()
        hash.update(bytes)
        self.role = role
        self.file = name
        self.bytes = bytes.count
        self.xxh64 = hash.finalizeHex()
        self.rows = rows
        self.columns = columns
    }

    /// Records an input that never passed through this process (the Parquet embeddings of a
    /// Spark job, encoded on its executors): its name, rows, columns and `bytes` (the size of the
    /// float32 matrix), with an empty `xxh64` (no fingerprint was taken, so no file matches it).
    public init(role: String, unhashedName name: String, bytes: Int, rows: Int, columns: Int?) {
        self.role = role
        self.file = name
        self.bytes = bytes
        self.xxh64 = ""
        self.rows = rows
        self.columns = columns
    }
}

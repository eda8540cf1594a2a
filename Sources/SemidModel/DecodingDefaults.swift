extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent (settings stored by an older
    /// version of semid); a present value of the wrong type is still an error.
    func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

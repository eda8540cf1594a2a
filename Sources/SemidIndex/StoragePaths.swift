import SemidStorage

/// Error messages of a write name the index the user gave, not the hidden staging directory the
/// files were being written to.
enum StoragePaths {
    /// `error` with every mention of the directory `staging` replaced by `destination`.
    static func renaming(_ error: Error, from staging: String, to destination: String) -> Error {
        func rename(_ text: String) -> String { text.replacingOccurrences(of: staging, with: destination) }
        switch error {
        case var e as InputError:
            e.source = rename(e.source)
            e.problem = rename(e.problem)
            return e
        case let e as StorageError:
            switch e {
            case .compression: return e
            case let .fileSystem(path, message): return StorageError.fileSystem(path: rename(path), message: rename(message))
            case let .sqlite(path, code, message): return StorageError.sqlite(path: rename(path), code: code, message: rename(message))
            }
        case let e as IndexError:
            switch e {
            case .outputExists(let path): return IndexError.outputExists(path: rename(path))
            case .notAnIndex(let path): return IndexError.notAnIndex(path: rename(path))
            case let .newerFormat(path, found, supported): return IndexError.newerFormat(path: rename(path), found: found, supported: supported)
            case let .checksumMismatch(path, expected, found): return IndexError.checksumMismatch(path: rename(path), expected: expected, found: found)
            case let .corrupted(path, problem): return IndexError.corrupted(path: rename(path), problem: rename(problem))
            case .inconsistentInput(let message): return IndexError.inconsistentInput(rename(message))
            case .invalidParameter, .missingInput: return e
            }
        default:
            return error
        }
    }
}

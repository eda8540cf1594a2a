import Foundation
import Semid
import SemidDecoding
import SemidIndex
import SemidQuantization
import SemidStorage

/// The status codes of `semid.h` (`semid_status`).
enum ABIStatus: Int32, CaseIterable {
    case ok = 0
    case invalidArgument = 1
    case notFound = 2
    case corrupt = 3
    case io = 4
    case unsupported = 5
    case exists = 6
    case bufferTooSmall = 7
    case internalError = 8

    /// The C name of the code, e.g. `SEMID_ERROR_NOT_FOUND`.
    var cName: String {
        switch self {
        case .ok: return "SEMID_OK"
        case .invalidArgument: return "SEMID_ERROR_INVALID_ARGUMENT"
        case .notFound: return "SEMID_ERROR_NOT_FOUND"
        case .corrupt: return "SEMID_ERROR_CORRUPT"
        case .io: return "SEMID_ERROR_IO"
        case .unsupported: return "SEMID_ERROR_UNSUPPORTED"
        case .exists: return "SEMID_ERROR_EXISTS"
        case .bufferTooSmall: return "SEMID_ERROR_BUFFER_TOO_SMALL"
        case .internalError: return "SEMID_ERROR_INTERNAL"
        }
    }
}

/// A failure detected by the ABI layer itself (a null pointer, a size that does not fit).
struct ABIError: Error, CustomStringConvertible {
    var status: ABIStatus
    var description: String

    init(_ status: ABIStatus, _ message: String) {
        self.status = status
        self.description = message
    }

    /// A bad argument: `message` names it and says what was expected.
    static func invalid(_ message: String) -> ABIError { ABIError(.invalidArgument, message) }
}

/// How errors of the library's types map to status codes.
enum ErrorClassification {
    /// The status of `error`; `fileProblem` is the status of an ``InputError`` (a problem in a
    /// file: a bad argument when the file is an input, corruption when it is part of an index).
    static func status(of error: Error, fileProblem: ABIStatus) -> ABIStatus {
        switch error {
        case let error as ABIError:
            return error.status
        case let error as IndexError:
            switch error {
            case .outputExists: return .exists
            case .notAnIndex: return .notFound
            case .newerFormat: return .unsupported
            case .checksumMismatch, .corrupted: return .corrupt
            case .inconsistentInput: return .invalidArgument
            }
        case is InputError:
            return fileProblem
        case let error as StorageError:
            switch error {
            case .fileSystem: return .io
            case .compression, .sqlite: return fileProblem == .invalidArgument ? .io : .corrupt
            }
        case is ConcurrentAccessError:
            // Another writer changed the index meanwhile, or kept replacing it: retrying helps.
            return .io
        case let error as DecodingError:
            switch error {
            case .corruptTrie: return .corrupt
            case .duplicateID: return .unsupported
            case .internalInconsistency: return .internalError
            default: return .invalidArgument
            }
        case let error as QuantizationError:
            if case .numerical = error { return .internalError }
            return .invalidArgument
        case is PipelineError:
            // Inputs that disagree with each other or with the output path.
            return .invalidArgument
        default:
            return .internalError
        }
    }
}

/// The calling thread's last error message (`semid_last_error`), a `malloc`ed C string kept in a
/// thread-specific slot and freed when the thread ends or the next error replaces it.
enum LastError {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// An empty string for threads without an error (never freed).
    nonisolated(unsafe) static let empty: UnsafeMutablePointer<CChar> = strdup("")!

    /// Replaces this thread's message.
    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    /// This thread's message, or "".
    static var current: UnsafePointer<CChar> {
        guard let pointer = pthread_getspecific(key) else { return UnsafePointer(empty) }
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }
}

/// Runs `body`, turning any thrown error into its status code and this thread's last error.
/// `fileProblem` is the status of a problem inside a file (see ``ErrorClassification``).
@inline(__always)
func abiCall(fileProblem: ABIStatus = .invalidArgument, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return ABIStatus.ok.rawValue
    } catch {
        let status = ErrorClassification.status(of: error, fileProblem: fileProblem)
        var message = String(describing: error)
        if status == .internalError && !(error is ABIError) && !(error is DecodingError) {
            message = "internal error (please report): \(message)"
        }
        LastError.set(message.split(whereSeparator: \.isNewline).joined(separator: "; "))
        return status.rawValue
    }
}

// MARK: Argument checks

/// `pointer`, or an error naming the argument when it is null.
@inline(__always)
func required<T>(_ pointer: T?, _ name: String) throws -> T {
    guard let pointer else { throw ABIError.invalid("\(name) is a null pointer") }
    return pointer
}

/// `value` as an `Int` after checking it is at least `minimum` and far from overflowing (no buffer
/// holds 2^59 elements, so sizes derived from it, such as `rows + 1`, stay in range).
@inline(__always)
func count(_ value: Int64, _ name: String, minimum: Int64 = 0) throws -> Int {
    guard value >= minimum else { throw ABIError.invalid("\(name) is \(value); it must be at least \(minimum)") }
    guard value <= Int64.max >> 4 else { throw ABIError.invalid("\(name) is \(value), too large for any buffer") }
    return Int(value)
}

/// `a × b`, or an error when the product overflows (sizes come from the caller).
@inline(__always)
func product(_ a: Int, _ b: Int, _ what: String) throws -> Int {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow else { throw ABIError.invalid("\(what) (\(a) × \(b)) is too large") }
    return p
}

/// A UTF-8 C string as a Swift string, or an error naming the argument.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    String(cString: try required(pointer, name))
}

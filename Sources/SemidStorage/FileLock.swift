import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's identity: its device and inode numbers. Two paths name the same file when their
/// identities are equal; a directory replaced by a rename has a new identity.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64

    /// The identity of the file open as `fd`, or `nil` if `fstat` fails.
    init?(descriptor fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The identity of the file at `path` (symbolic links followed), or `nil` if there is none.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// `device:inode`.
    public var description: String { "\(device):\(inode)" }
}

/// `flock(2)` advisory locks: who may hold them, and who holds one.
///
/// Locks belong to an open file description, so two descriptors opened separately conflict even
/// inside one process (two threads exclude each other), and the kernel releases a lock when its
/// last descriptor closes, including when the process is killed.
enum FileLock {
    /// Locks `fd` exclusively or shared; returns `false` when `wait` is false and another
    /// descriptor holds a conflicting lock. Retries when interrupted by a signal.
    static func lock(_ fd: Int32, exclusive: Bool, wait: Bool) -> Bool {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while flock(fd, operation) != 0 {
            if errno == EINTR { continue }
            return false
        }
        return true
    }

    /// The processes holding a `flock` lock on the file `identity`, from `/proc/locks` (Linux;
    /// empty elsewhere or when the file cannot be read).
    static func holders(of identity: FileIdentity) -> [Int32] {
        guard let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return [] }
        // "1: FLOCK  ADVISORY  WRITE 12345 00:2f:1234567 0 EOF" (device major:minor in hex).
        let major = ((identity.device >> 8) & 0xFFF) | ((identity.device >> 32) & ~0xFFF)
        let minor = (identity.device & 0xFF) | ((identity.device >> 12) & ~0xFF)
        let wanted = String(format: "%02llx:%02llx:%llu", major, minor, identity.inode)
        // Some file systems (btrfs subvolumes, overlays) report another device to stat than the
        // lock table uses, so a match on the inode alone is the fallback.
        var exact: [Int32] = [], sameInode: [Int32] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            if fields[5] == wanted {
                if !exact.contains(pid) { exact.append(pid) }
            } else if fields[5].split(separator: ":").last == Substring(String(identity.inode)) {
                if !sameInode.contains(pid) { sameInode.append(pid) }
            }
        }
        return exact.isEmpty ? sameInode : exact
    }

    /// `pid N: COMMAND LINE` for a process (the command line from `/proc/N/cmdline`, shortened), or
    /// `pid N` when it cannot be read.
    static func describe(process pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return "pid \(pid)" }
        var words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if let first = words.first { words[0] = (first as NSString).lastPathComponent }
        var line = words.joined(separator: " ")
        if line.count > 120 { line = String(line.prefix(117)) + "..." }
        return "pid \(pid): \(line)"
    }

    /// Who holds a lock on `identity`, for messages: `pid N: semid train …`, or `nil` if unknown.
    static func holderDescription(of identity: FileIdentity) -> String? {
        let others = holders(of: identity).filter { $0 != getpid() }
        guard !others.isEmpty else { return nil }
        return others.map(describe(process:)).joined(separator: "; ")
    }
}

/// A problem of concurrent use of an index directory: another process is writing it, or wrote it
/// while this one was working. One line each.
public enum ConcurrentAccessError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Another process holds the writer lock of `path` and the caller chose not to wait.
    case locked(path: String, holder: String?)
    /// `path` was changed by another writer after this process read it; nothing was written.
    case changedSinceRead(path: String)
    /// `path` was replaced again and again while this process tried to lock or read it.
    case unstable(path: String)

    /// One line naming the path, who holds it when known, and what to do.
    public var description: String {
        switch self {
        case let .locked(path, holder):
            return "\(path) is being written by another semid process\(holder.map { " (\($0))" } ?? ""); "
                + "try again when it has finished, or let this command wait for it"
        case .changedSinceRead(let path):
            return "\(path) was changed by another semid process after this one read it; nothing was written, run the command again"
        case .unstable(let path):
            return "\(path) kept being replaced by other processes while semid tried to read or lock it; try again"
        }
    }
}

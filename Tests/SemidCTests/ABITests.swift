import CSemid
import Foundation
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidC

/// The C ABI called as C would call it: status codes agree with semid.h, and bad arguments give a
/// status and a message rather than a crash. (The Python tests exercise the rest through ctypes.)
@Suite struct ABITests {
    @Test func statusCodesAndNamesMatchTheHeader() {
        let header: [(Int32, UInt32)] = [
            (ABIStatus.ok.rawValue, SEMID_OK.rawValue),
            (ABIStatus.invalidArgument.rawValue, SEMID_ERROR_INVALID_ARGUMENT.rawValue),
            (ABIStatus.notFound.rawValue, SEMID_ERROR_NOT_FOUND.rawValue),
            (ABIStatus.corrupt.rawValue, SEMID_ERROR_CORRUPT.rawValue),
            (ABIStatus.io.rawValue, SEMID_ERROR_IO.rawValue),
            (ABIStatus.unsupported.rawValue, SEMID_ERROR_UNSUPPORTED.rawValue),
            (ABIStatus.exists.rawValue, SEMID_ERROR_EXISTS.rawValue),
            (ABIStatus.bufferTooSmall.rawValue, SEMID_ERROR_BUFFER_TOO_SMALL.rawValue),
            (ABIStatus.internalError.rawValue, SEMID_ERROR_INTERNAL.rawValue),
        ]
        for (swift, c) in header { #expect(UInt32(swift) == c) }
        #expect(ABIStatus.allCases.count == header.count)
        #expect(String(cString: SemidC.semid_status_name(2)) == "SEMID_ERROR_NOT_FOUND")
        #expect(String(cString: SemidC.semid_status_name(42)) == "unknown")
        #expect(SemidC.semid_abi_version() == SEMID_ABI_VERSION)
    }

    @Test func nullPointersAndUnknownHandlesGiveErrorsWithMessages() {
        var index: OpaquePointer?
        #expect(SemidC.semid_index_open(nil, &index) == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("path is a null pointer"))
        #expect(SemidC.semid_index_open("/nonexistent/semid-index", &index) == ABIStatus.notFound.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("/nonexistent/semid-index"))
        #expect(index == nil)
        var count: Int64 = 0
        #expect(SemidC.semid_index_num_items(nil, &count) == ABIStatus.invalidArgument.rawValue)
        let bogus = OpaquePointer(bitPattern: 0x1234)
        #expect(SemidC.semid_index_num_items(bogus, &count) == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("not an open semid index"))
        #expect(SemidC.semid_index_close(bogus) == ABIStatus.invalidArgument.rawValue)
        #expect(SemidC.semid_index_close(nil) == ABIStatus.ok.rawValue)
    }

    @Test func theLastErrorIsPerThread() {
        final class Box: @unchecked Sendable { var message = "" }
        var index: OpaquePointer?
        #expect(SemidC.semid_index_open(nil, &index) == ABIStatus.invalidArgument.rawValue)
        let mine = String(cString: SemidC.semid_last_error())
        let other = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var handle: OpaquePointer?
            _ = SemidC.semid_index_open("/nonexistent/other", &handle)
            other.message = String(cString: SemidC.semid_last_error())
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(other.message.contains("/nonexistent/other"))
        #expect(String(cString: SemidC.semid_last_error()) == mine)
    }

    @Test func tokenNamesAndTheirBuffer() {
        var buffer = [CChar](repeating: 0, count: 8)
        var length: Int64 = 0
        #expect(SemidC.semid_token_name(nil, 1, 42, &buffer, 8, &length) == ABIStatus.ok.rawValue)
        #expect(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } == "<b_42>" && length == 6)
        #expect(SemidC.semid_token_name("<s_{letter}_{code}>", 1, 4242, &buffer, 8, &length) == ABIStatus.bufferTooSmall.rawValue)
        #expect(length == 10)
        #expect(SemidC.semid_token_name("<{code}>", 0, 1, &buffer, 8, &length) == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("{letter} or {position}"))
    }

    @Test func buildOptionsNeedTheirInitialiser() {
        var options = semid_build_options()
        let values: [Float] = (0..<64).map { Float($0 % 7) }
        #expect(SemidC.semid_build(values, 16, 4, nil, nil, nil, &options, "/tmp/never", nil) == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("semid_build_options_init"))
        semid_build_options_init(&options)
        #expect(options.levels == 3 && options.codebook_size == 256 && String(cString: options.collisions) == "suffix")
        options.codebook_size = 1
        #expect(SemidC.semid_build(values, 16, 4, nil, nil, nil, &options, "/tmp/never", nil) == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("codebook_size"))
    }

    @Test func buildTakesPerLevelCodebookSizes() throws {
        let directory = NSTemporaryDirectory() + "semid-abi-sizes-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let values: [Float] = (0..<(200 * 6)).map { Float(sin(Double($0) * 0.7317 + Double($0 / 6) * 1.3)) }
        var options = semid_build_options()
        semid_build_options_init(&options)
        #expect(options.codebook_sizes == nil)
        let sizes: [Int32] = [16, 8, 4]
        let status = sizes.withUnsafeBufferPointer { list -> Int32 in
            options.levels = 3
            options.codebook_sizes = list.baseAddress
            return SemidC.semid_build(values, 200, 6, nil, nil, nil, &options, directory + "/nu.semid", nil)
        }
        #expect(status == ABIStatus.ok.rawValue, "\(String(cString: SemidC.semid_last_error()))")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/nu.semid/manifest.json"))) as? [String: Any]
        let parameters = manifest?["parameters"] as? [String: Any]
        #expect(parameters?["codebook_sizes"] as? [Int] == [16, 8, 4] && parameters?["codebook_size"] == nil)
        #expect((manifest?["code_sizes"] as? [Int]).map { Array($0.prefix(3)) } == [16, 8, 4])
        let bad: [Int32] = [16, 1, 4]
        let refused = bad.withUnsafeBufferPointer { list -> Int32 in
            options.codebook_sizes = list.baseAddress
            return SemidC.semid_build(values, 200, 6, nil, nil, nil, &options, directory + "/bad.semid", nil)
        }
        #expect(refused == ABIStatus.invalidArgument.rawValue)
        #expect(String(cString: SemidC.semid_last_error()).contains("options.codebook_sizes[1]"))
    }

    @Test func buildWaitsForTheWriterLockOfTheIndexItReplaces() throws {
        final class Stages: @unchecked Sendable {
            let lock = NSLock()
            var names: [String] = []
        }
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let out = directory + "/x.semid"
        let values: [Float] = (0..<256).map { Float(($0 * 37) % 11) - 5 }
        var options = semid_build_options()
        semid_build_options_init(&options)
        options.levels = 2
        options.codebook_size = 4
        options.overwrite = 1
        #expect(SemidC.semid_build(values, 32, 8, nil, nil, nil, &options, out, nil) == ABIStatus.ok.rawValue)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))

        // Another writer (a thread here; flock locks conflict between threads too) holds the lock.
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
        let holder = Thread {
            let lock = try? DirectoryLock.acquire(out, waiting: .fail)
            held.signal()
            release.wait()
            lock?.release()
            released.signal()
        }
        holder.start()
        held.wait()
        let stages = Stages()
        options.seed = 1
        options.progress_context = Unmanaged.passUnretained(stages).toOpaque()
        options.progress = { stage, _, _, _, _, context in
            let box = Unmanaged<Stages>.fromOpaque(context!).takeUnretainedValue()
            box.lock.lock(); box.names.append(String(cString: stage!)); box.lock.unlock()
        }
        let finished = DispatchSemaphore(value: 0)
        final class Status: @unchecked Sendable { var value: Int32 = -1 }
        let status = Status()
        final class Options: @unchecked Sendable {
            var value: semid_build_options
            init(_ value: semid_build_options) { self.value = value }
        }
        let boxed = Options(options)
        Thread {
            var o = boxed.value
            status.value = SemidC.semid_build(values, 32, 8, nil, nil, nil, &o, out, nil)
            finished.signal()
        }.start()
        // It waits (and says so) while the lock is held, and leaves the index alone.
        #expect(finished.wait(timeout: .now() + 3) == .timedOut, "semid_build did not wait for the writer lock")
        stages.lock.lock(); let waited = stages.names.contains("waiting for another writer"); stages.lock.unlock()
        #expect(waited)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")) == before)
        release.signal()
        released.wait()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect(status.value == ABIStatus.ok.rawValue)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")) != before)
    }
}

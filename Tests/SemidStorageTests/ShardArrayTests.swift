import Testing
@testable import SemidStorage

@Suite("ShardArray")
struct ShardArrayTests {
    @Test func emptyArraysRoundTrip() throws {
        // A shard with no rows (e.g. a batch of zero users) must decode to empty values, not trap.
        let codes = ShardArray(int32: [], shape: [0, 4])
        let decoded = try ShardArray(decoding: try codes.encoded(), source: "empty.zst")
        #expect(decoded.shape == [0, 4])
        #expect(try decoded.int32Values(source: "empty.zst").isEmpty)
        let floats = try ShardArray(decoding: try ShardArray(float32: [], shape: [0]).encoded(), source: "f.zst")
        #expect(try floats.float32Values(source: "f.zst").isEmpty)
    }

    @Test func valuesRoundTripAndTheWrongDTypeIsAnError() throws {
        let a = ShardArray(int32: [1, -2, 3, Int32.max, Int32.min, 0], shape: [2, 3])
        let decoded = try ShardArray(decoding: try a.encoded(), source: "a.zst")
        #expect(try decoded.int32Values(source: "a.zst") == [1, -2, 3, Int32.max, Int32.min, 0])
        #expect(throws: InputError.self) { try decoded.float32Values(source: "a.zst") }
    }
}

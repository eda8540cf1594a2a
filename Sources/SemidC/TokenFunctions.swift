import SemidIndex

/// The token of a code at an ID position under a template.
@_cdecl("semid_token_name")
public func semid_token_name(_ template: UnsafePointer<CChar>?, _ position: Int32, _ code: Int32,
                             _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64,
                             _ outLength: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let template = try template.map { try TokenTemplate(String(cString: $0)) } ?? .lcrec
        guard position >= 0, code >= 0 else {
            throw ABIError.invalid("position \(position) and code \(code) must both be at least 0")
        }
        let capacity = try count(capacity, "capacity")
        let length = try required(outLength, "out_length")
        let bytes = Array(template.token(position: Int(position), code: Int(code)).utf8)
        length.pointee = Int64(bytes.count)
        guard bytes.count + 1 <= capacity else {
            throw ABIError(.bufferTooSmall, "buffer holds \(capacity) bytes; the token needs \(bytes.count + 1) with its NUL")
        }
        let out = try required(buffer, "buffer")
        for (i, byte) in bytes.enumerated() { out[i] = CChar(bitPattern: byte) }
        out[bytes.count] = 0
    }
}

import Foundation
import SemidIndex

// Opening, closing, sizes and the arrays an index owns (semid.h, "Opening" to "Arrays").

/// Opens the index at `path`.
@_cdecl("semid_index_open")
public func semid_index_open(_ path: UnsafePointer<CChar>?, _ outIndex: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall(fileProblem: .corrupt) {
        let path = try string(path, "path")
        let out = try required(outIndex, "out_index")
        out.pointee = IndexHandle.register(try IndexHandle(path: path))
    }
}

/// Closes an index (NULL is a no-op).
@_cdecl("semid_index_close")
public func semid_index_close(_ index: OpaquePointer?) -> Int32 {
    abiCall {
        guard let index else { return }
        try IndexHandle.close(index)
    }
}

/// Number of items.
@_cdecl("semid_index_num_items")
public func semid_index_num_items(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_count").pointee = Int64(handle.index.itemCount)
    }
}

/// Codes per semantic ID.
@_cdecl("semid_index_id_length")
public func semid_index_id_length(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_length").pointee = Int32(handle.index.ids.levels)
    }
}

/// Vocabulary size of each ID position.
@_cdecl("semid_index_code_sizes")
public func semid_index_code_sizes(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?, _ capacity: Int32) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        let sizes = handle.index.manifest.codeSizes
        let out = try required(out, "out_sizes")
        guard Int(capacity) >= sizes.count else {
            throw ABIError(.bufferTooSmall, "out_sizes holds \(capacity) values; the IDs have \(sizes.count) positions")
        }
        for (l, size) in sizes.enumerated() { out[l] = Int32(size) }
    }
}

/// Quantizer levels (columns of the raw codes).
@_cdecl("semid_index_levels")
public func semid_index_levels(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_levels").pointee = Int32(handle.index.rawCodes.levels)
    }
}

/// The dimension of the vectors `semid_index_encode` takes.
@_cdecl("semid_index_dimension")
public func semid_index_dimension(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        let method = QuantizationMethod(rawValue: handle.index.manifest.parameters.method)
        try required(out, "out_dimension").pointee = method?.isAssigned == true ? 0 : Int32(handle.index.quantizer.inputDimension)
    }
}

/// The final IDs, `[n, idLength]`, owned by the index.
@_cdecl("semid_index_codes")
public func semid_index_codes(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<Int32>?>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_codes").pointee = UnsafePointer(handle.codes.baseAddress)
    }
}

/// The raw codes, `[n, levels]`, owned by the index.
@_cdecl("semid_index_raw_codes")
public func semid_index_raw_codes(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<Int32>?>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_codes").pointee = UnsafePointer(handle.rawCodes.baseAddress)
    }
}

/// manifest.json, owned by the index.
@_cdecl("semid_index_manifest_json")
public func semid_index_manifest_json(_ index: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        try required(out, "out_json").pointee = UnsafePointer(handle.manifestJSON)
    }
}

/// One text column of the catalog, owned by the index.
@_cdecl("semid_index_catalog_strings")
public func semid_index_catalog_strings(_ index: OpaquePointer?, _ column: Int32,
                                        _ outData: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                        _ outOffsets: UnsafeMutablePointer<UnsafePointer<Int64>?>?,
                                        _ outPresent: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) -> Int32 {
    abiCall(fileProblem: .corrupt) {
        let handle = try IndexHandle.from(index)
        let data = try required(outData, "out_data")
        let offsets = try required(outOffsets, "out_offsets")
        let present = try required(outPresent, "out_present")
        let text = try handle.catalogText(column: column)
        data.pointee = UnsafePointer(text.bytes.baseAddress)
        offsets.pointee = UnsafePointer(text.offsets.baseAddress)
        present.pointee = UnsafePointer(text.present.baseAddress)
    }
}

import Foundation
import SemidIndex
import SemidMath

// The library-wide functions of semid.h: versions, BLAS, errors.

/// The ABI version this library implements (`SEMID_ABI_VERSION`).
let abiVersion: Int32 = 2

/// Static C strings handed out by the library (never freed).
enum StaticStrings {
    nonisolated(unsafe) static let version: UnsafeMutablePointer<CChar> = strdup(SemidVersion.current)!
    nonisolated(unsafe) static let blas: UnsafeMutablePointer<CChar> =
        strdup("\(BLASRuntime.summary)\(BLASRuntime.isGenericFallback ? " (a generic fallback kernel: set OPENBLAS_CORETYPE before loading semid for full speed)" : "")")!
    nonisolated(unsafe) static let statusNames: [Int32: UnsafeMutablePointer<CChar>] =
        Dictionary(uniqueKeysWithValues: ABIStatus.allCases.map { ($0.rawValue, strdup($0.cName)!) })
    nonisolated(unsafe) static let unknown: UnsafeMutablePointer<CChar> = strdup("unknown")!
}

/// `SEMID_ABI_VERSION` of this library.
@_cdecl("semid_abi_version")
public func semid_abi_version() -> Int32 { abiVersion }

/// semid's version string.
@_cdecl("semid_version")
public func semid_version() -> UnsafePointer<CChar> { UnsafePointer(StaticStrings.version) }

/// The BLAS library, kernel and thread count.
@_cdecl("semid_blas_info")
public func semid_blas_info() -> UnsafePointer<CChar> { UnsafePointer(StaticStrings.blas) }

/// The calling thread's last error message.
@_cdecl("semid_last_error")
public func semid_last_error() -> UnsafePointer<CChar> { LastError.current }

/// The C name of a status code.
@_cdecl("semid_status_name")
public func semid_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(StaticStrings.statusNames[status] ?? StaticStrings.unknown)
}

import ArgumentParser
import Semid

/// How a command that writes an index behaves when another semid process is writing it.
///
/// Every writer holds the index's writer lock from reading the index to swapping in the new
/// version (see docs/index-format.md). By default a second writer waits for the first, with a
/// message on stderr naming it; `--no-wait` makes it fail at once instead (exit status 1), which
/// suits scripts that must not block.
struct WriterOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo,
          help: "If another semid process is writing the index, wait for it to finish (with a message on stderr); --no-wait fails at once instead.")
    var wait = true

    /// The library's policy for these flags.
    var waiting: DirectoryLock.Waiting {
        wait ? DirectoryLock.Waiting(waits: true, notice: { Console.err("semid: \($0)") }) : .fail
    }
}

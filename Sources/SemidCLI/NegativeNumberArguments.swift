/// Lets negative numbers follow an option: `--seed -1`, `--top -3`.
///
/// ArgumentParser reads `--seed -1` as `--seed` without a value followed by a flag `-1`, and says
/// "Missing value for '--seed'", which hides the real problem. semid has no short options that
/// are digits, so an argument that looks like a negative number right after a `--long` option is
/// joined to it (`--seed=-1`); the option then reports the value itself ("The value '-1' is
/// invalid for '--seed'", "--top must be at least 1 (got -3)").
enum NegativeNumberArguments {
    /// `arguments` with every `--option -NUMBER` pair written as `--option=-NUMBER`; nothing after
    /// a bare `--` is changed.
    static func joined(_ arguments: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var ended = false
        for argument in arguments {
            if !ended, let previous = out.last, isLongOptionAwaitingValue(previous), looksNegative(argument) {
                out[out.count - 1] = previous + "=" + argument
                continue
            }
            if argument == "--" { ended = true }
            out.append(argument)
        }
        return out
    }

    /// `--name` without `=value` (and not the `--` terminator).
    private static func isLongOptionAwaitingValue(_ argument: String) -> Bool {
        argument.hasPrefix("--") && argument.count > 2 && !argument.contains("=")
    }

    /// `-` followed by a digit or by `.` and a digit: `-1`, `-0.5`, `-.5`, `-1e3`.
    private static func looksNegative(_ argument: String) -> Bool {
        let scalars = Array(argument.unicodeScalars.prefix(3))
        guard scalars.count >= 2, scalars[0] == "-" else { return false }
        if ("0"..."9").contains(scalars[1]) { return true }
        return scalars[1] == "." && scalars.count == 3 && ("0"..."9").contains(scalars[2])
    }
}

/// One update from a long-running step (a k-means iteration, an encoding pass, a training epoch).
public struct ProgressEvent: Sendable {
    /// What is running, e.g. `"level 2/4 k-means"`.
    public var stage: String
    /// Steps done so far (1-based), or 0 when the step count is not known.
    public var step: Int
    /// Total steps, or 0 when not known.
    public var total: Int
    /// Extra figures for this step, e.g. `"objective 0.0123"`.
    public var detail: String
    /// Whether this event closes the stage (the line should be kept, not overwritten).
    public var finished: Bool

    /// Creates an event.
    public init(stage: String, step: Int = 0, total: Int = 0, detail: String = "", finished: Bool = false) {
        self.stage = stage
        self.step = step
        self.total = total
        self.detail = detail
        self.finished = finished
    }
}

/// Receives progress events. The library never prints; the command-line tool decides how (and
/// whether) to show them.
public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void

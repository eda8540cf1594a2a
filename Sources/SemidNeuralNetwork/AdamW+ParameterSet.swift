/// AdamW over a ``ParameterSet``: every tensor, with weight decay on the entries marked `decay`.
extension AdamW {
    /// An optimizer for all of `parameters` (which must be finalized), moments at zero.
    package init(for parameters: ParameterSet, configuration: Configuration, rounding: Rounding = .squareFirst) {
        self.init(parameterCount: parameters.count, configuration: configuration,
                  decayedRanges: parameters.decayedRanges, rounding: rounding)
    }

    /// One step at `learningRate` on `parameters`' values from its gradients. O(parameters).
    package mutating func update(_ parameters: ParameterSet, learningRate: Double) {
        update(parameters: parameters.values.pointer, gradients: parameters.gradients.constPointer,
               learningRate: learningRate)
    }
}

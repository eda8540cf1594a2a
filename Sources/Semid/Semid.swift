// `import Semid`: every public module of the package, and the pipeline layer (``Pipeline``) that
// runs semid's verbs (build, add, users, train, recommend, evaluate, export, compare, verify,
// inspect, report) from typed requests to typed results.
//
// The layering of the modules is documented in Package.swift and checked by
// scripts/check-layering.py.

@_exported import SemidMath
@_exported import SemidNeuralNetwork
@_exported import SemidQuantization
@_exported import SemidStorage
@_exported import SemidIndex
@_exported import SemidDecoding
@_exported import SemidEvaluation
@_exported import SemidModel
@_exported import SemidReport

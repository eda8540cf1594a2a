import ArgumentParser
import Semid

// Library enums parsed directly from flags: ArgumentParser checks the value and lists the
// choices in `--help` and in its error message. The library stays free of ArgumentParser; the
// conformances live here, in the tool.

extension QuantizationMethod: @retroactive ExpressibleByArgument {}
extension ItemVectorSource: @retroactive ExpressibleByArgument {}
extension KMeans.Initialization: @retroactive ExpressibleByArgument {}
extension RQVAE.Configuration.Precision: @retroactive ExpressibleByArgument {}
extension ModelConfiguration.Head: @retroactive ExpressibleByArgument {}
extension ModelConfiguration.UserTokenPlacement: @retroactive ExpressibleByArgument {}
extension TrainingConfiguration.UserIDTraining: @retroactive ExpressibleByArgument {}
extension LeaveOneOutSplit.Part: @retroactive ExpressibleByArgument {}
extension ExportRequest.Format: @retroactive ExpressibleByArgument {}

/// `--collisions`: the policy's name (its settings come from their own flags).
enum CollisionPolicyName: String, CaseIterable, ExpressibleByArgument {
    /// Report collisions, keep the raw codes.
    case none
    /// TIGER: one extra level, the rank in the colliding group.
    case suffix
    /// LC-Rec: Sinkhorn uniform mapping on the last level.
    case sinkhorn

    /// The policy with default settings (``sinkhorn`` takes its settings from its flags).
    var policy: CollisionPolicy { CollisionPolicy(name: rawValue) ?? .suffix }
}

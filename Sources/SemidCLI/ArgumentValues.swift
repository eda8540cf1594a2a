import ArgumentParser
import Semid

// Library enums parsed directly from flags: ArgumentParser checks the value and lists the
// choices in `--help` and in its error message. The library stays free of ArgumentParser; the
// conformances live here, in the tool.

extension QuantizationMethod: ExpressibleByArgument {}
extension ItemVectorSource: ExpressibleByArgument {}
extension KMeans.Initialization: ExpressibleByArgument {}
extension RQVAE.Configuration.Precision: ExpressibleByArgument {}
extension ModelConfiguration.Head: ExpressibleByArgument {}
extension ModelConfiguration.UserTokenPlacement: ExpressibleByArgument {}
extension TrainingConfiguration.UserIDTraining: ExpressibleByArgument {}
extension LeaveOneOutSplit.Part: ExpressibleByArgument {}
extension ExportRequest.Format: ExpressibleByArgument {}

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

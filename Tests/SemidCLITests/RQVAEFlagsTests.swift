import ArgumentParser
import Testing
@testable import SemidCLI
import SemidMath
import SemidQuantization

@Suite struct RQVAEFlagsTests {
    static let base = ["--embeddings", "e.npy", "--out", "o.semid"]

    @Test func flagsFillTheConfiguration() throws {
        let command = try BuildCommand.parse(Self.base + [
            "--method", "rq-vae", "--levels", "4", "--codebook-size", "128", "--epochs", "7", "--lr", "0.002",
            "--batch", "512", "--weight-decay", "0", "--warmup-steps", "10", "--lr-decay", "constant", "--beta", "0.5",
            "--latent-dim", "16", "--hidden", "64, 32", "--dead-code-steps", "30", "--patience", "3",
            "--eval-every", "2", "--checkpoint-tolerance", "0.1", "--init-samples-per-code", "0", "--precision", "fp32",
        ])
        let c = try command.vaeConfiguration()
        #expect(c.levels == 4 && c.codebookSizes == [128, 128, 128, 128] && c.epochs == 7 && c.batchSize == 512)
        #expect(c.optimizer.learningRate == 0.002 && c.optimizer.weightDecay == 0 && c.optimizer.warmupSteps == 10)
        #expect(c.optimizer.decay == .constant && c.beta == 0.5 && c.latentDimension == 16 && c.hidden == [64, 32])
        #expect(c.deadCodeSteps == 30 && c.patience == 3 && c.evaluateEvery == 2 && c.checkpointTolerance == 0.1)
        #expect(c.initSamplesPerCode == 0 && c.precision == .fp32)
        let defaults = try BuildCommand.parse(Self.base + ["--method", "rq-vae"]).vaeConfiguration()
        #expect(defaults == RQVAE.Configuration(levels: 3, codebookSize: 256))
        #expect(defaults.deadCodeSteps == nil)
    }

    @Test(arguments: [
        (["--epochs", "5"], "--epochs applies to --method rq-vae only"),
        (["--method", "rq-vae", "--hidden", "512,x"], "--hidden must be"),
        (["--method", "rq-vae", "--epochs", "0"], "--epochs = 0 is not valid"),
        (["--method", "rq-vae", "--lr=-1"], "--lr = -1.0 is not valid"),
        (["--method", "rq-vae", "--lr-decay", "linear"], "--lr-decay must be cosine or constant"),
        (["--method", "rq-vae", "--dead-code-steps", "soon"], "--dead-code-steps must be"),
        (["--method", "rq-vae", "--latent-dim", "0"], "--latent-dim = 0 is not valid"),
        (["--method", "rq-vae", "--batch", "0"], "--batch = 0 is not valid"),
        (["--method", "vq"], "'vq' is invalid for '--method <method>'. Please provide one of 'rq-kmeans', 'rq-vae'"),
    ])
    func badFlagsAreRejectedWithTheirName(arguments: [String], message: String) {
        do {
            _ = try BuildCommand.parse(Self.base + arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            let text = BuildCommand.message(for: error)
            #expect(text.contains(message), "\(text)")
        }
    }
}

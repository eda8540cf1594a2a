import SemidCLI

SemidCommand.runAndExit()

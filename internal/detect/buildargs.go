package detect

// A token forwarded into an image build (docker build --build-arg
// CI_JOB_TOKEN=$CI_JOB_TOKEN, declared by ARG CI_JOB_TOKEN in the stage;
// docs/patterns.md P39) is used by the RUN lines of the Dockerfile.
// analyseRuns (dockerfile.go) replays those lines for git and registry
// accesses; buildRunFamilies are the other families whose commands a RUN
// line runs with the token: REST calls (curl --header "JOB-TOKEN: …",
// wget) and the package managers that take it on their command line
// (dotnet nuget add source, composer config). Families that mostly read
// the repository's committed configuration (npm, pip, Maven) are left to
// the job-level pass, which already sees those files: replaying them here
// would report the same configuration line twice.
func buildRunFamilies() []Detector {
	return []Detector{apiDetector{}, nugetDetector{}, composerDetector{}}
}

// buildRunUses runs buildRunFamilies over the RUN commands of a build
// (sub is the job's input with the build's commands).
func buildRunUses(sub *Input, out *Output) {
	for _, d := range buildRunFamilies() {
		d.Detect(sub, out)
	}
}

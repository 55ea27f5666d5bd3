package detect_test

import "testing"

// The job token forwarded into an image build and used by the
// Dockerfile's RUN lines (P39): git (dockerfile_test.go) and here REST
// calls and package managers.
func TestBuildArgsIntoDockerfile(t *testing.T) {
	runTable(t, "dockerfile", []jobCase{
		{name: "P39 ARG CI_JOB_TOKEN used by curl with a JOB-TOKEN header in a RUN",
			script: `docker build --build-arg CI_JOB_TOKEN=$CI_JOB_TOKEN --build-arg CI_API_V4_URL=$CI_API_V4_URL -t app .`,
			files: map[string]string{"Dockerfile": "FROM alpine:3.20\nARG CI_JOB_TOKEN\nARG CI_API_V4_URL\n" +
				"RUN curl --fail --header \"JOB-TOKEN: ${CI_JOB_TOKEN}\" -o /tmp/sdk.tgz \"${CI_API_V4_URL}/projects/77/packages/generic/sdk/1.2.0/sdk.tgz\"\n"},
			uses:  []string{"packages-read id=77 Dockerfile:4"},
			notes: []string{"config-warning .gitlab-ci.yml:10 ~ build-arg CI_JOB_TOKEN"}},
		{name: "P39 a build-arg under another name, declared and used by dotnet nuget in the build",
			script: `docker build --build-arg NUGET_TOKEN=${CI_JOB_TOKEN} -f src/Dockerfile .`,
			files: map[string]string{"src/Dockerfile": "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nARG NUGET_TOKEN\nWORKDIR /src\nCOPY . .\n" +
				"RUN dotnet nuget add source https://git.example.org/api/v4/projects/311/packages/nuget/index.json -n shared -u gitlab-ci-token -p $NUGET_TOKEN --store-password-in-clear-text && dotnet restore\n"},
			uses:  []string{"packages-read id=311 src/Dockerfile:5"},
			notes: []string{"config-warning .gitlab-ci.yml:10 ~ build-arg NUGET_TOKEN"}},
		{name: "P39 the ARG is declared in an earlier stage only: the final stage's curl has no token",
			script: `docker build --build-arg CI_JOB_TOKEN=$CI_JOB_TOKEN .`,
			files: map[string]string{"Dockerfile": "FROM alpine:3.20 AS fetch\nARG CI_JOB_TOKEN\nRUN echo fetched\n" +
				"FROM alpine:3.20\nRUN curl --header \"JOB-TOKEN: ${CI_JOB_TOKEN}\" https://git.example.org/api/v4/projects/77/packages/generic/sdk/1.2.0/sdk.tgz\n"},
			notes: []string{"config-warning .gitlab-ci.yml:10"}},
	})
}

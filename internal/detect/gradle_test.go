package detect_test

import (
	"strings"
	"testing"
)

// Gradle repositories as GitLab's Maven docs (Gradle tab) and public
// Kotlin builds write them: settings.gradle(.kts) dependency management,
// the provider API and Groovy's System.env.
func TestGradleManifests(t *testing.T) {
	const settingsKts = `pluginManagement {
    repositories { gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories {
        mavenCentral()
        maven {
            url = uri("https://git.example.org/api/v4/groups/12/-/packages/maven")
            name = "GitLab"
            credentials(HttpHeaderCredentials::class) {
                name = "Job-Token"
                value = providers.environmentVariable("CI_JOB_TOKEN").get()
            }
            authentication {
                create<HttpHeaderAuthentication>("header")
            }
        }
    }
}
`
	const groovyEnv = `repositories {
    maven {
        url "https://git.example.org/api/v4/projects/4411/packages/maven"
        name "GitLab"
        credentials(HttpHeaderCredentials) {
            name = 'Job-Token'
            value = System.env.CI_JOB_TOKEN
        }
        authentication {
            header(HttpHeaderAuthentication)
        }
    }
}
`
	runRows(t, "maven", []row{
		{name: "P22 settings.gradle.kts dependencyResolutionManagement, group endpoint, providers.environmentVariable",
			files:  map[string]string{"settings.gradle.kts": settingsKts},
			script: "./gradlew --no-daemon build",
			uses:   []string{"settings.gradle.kts:8 packages-read group:12 @job"}},
		{name: "P22 Groovy System.env.CI_JOB_TOKEN (name \"GitLab\" before the header name)",
			files:  map[string]string{"build.gradle": groovyEnv},
			script: "gradle dependencies",
			uses:   []string{"build.gradle:3 packages-read id:4411 @job"}},
		{name: "P22 project folder given with -p",
			files:  map[string]string{"android/build.gradle": groovyEnv},
			script: "./gradlew -p android assembleRelease",
			uses:   []string{"android/build.gradle:3 packages-read id:4411 @job"}},
		{name: "P22 the provider reads another variable: no job token",
			files:  map[string]string{"settings.gradle.kts": strings.Replace(settingsKts, `"CI_JOB_TOKEN"`, `"GITLAB_READ_TOKEN"`, 1)},
			script: "./gradlew build"},
	})
}

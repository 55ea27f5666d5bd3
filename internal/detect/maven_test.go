package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// mvnSettings renders a settings.xml with one server per id and header.
func mvnSettings(servers ...[3]string) string {
	var b strings.Builder
	b.WriteString("<settings xmlns=\"http://maven.apache.org/SETTINGS/1.1.0\">\n  <servers>\n")
	for _, s := range servers {
		b.WriteString("    <server>\n      <id>" + s[0] + "</id>\n      <configuration>\n        <httpHeaders>\n          <property>\n")
		b.WriteString("            <name>" + s[1] + "</name>\n            <value>" + s[2] + "</value>\n")
		b.WriteString("          </property>\n        </httpHeaders>\n      </configuration>\n    </server>\n")
	}
	b.WriteString("  </servers>\n</settings>\n")
	return b.String()
}

// testPom: the shared-libs repository URL is on line 5, the deploy
// repository URL on line 11.
const testPom = `<project>
  <repositories>
    <repository>
      <id>shared-libs</id>
      <url>https://git.example.org/api/v4/projects/1295/packages/maven</url>
    </repository>
  </repositories>
  <distributionManagement>
    <repository>
      <id>gitlab-maven</id>
      <url>${CI_API_V4_URL}/projects/${env.CI_PROJECT_ID}/packages/maven</url>
    </repository>
  </distributionManagement>
</project>
`

func TestMavenDetector(t *testing.T) {
	jobTok := mvnSettings([3]string{"shared-libs", "Job-Token", "${env.CI_JOB_TOKEN}"}, [3]string{"gitlab-maven", "Job-Token", "${CI_JOB_TOKEN}"})
	runRows(t, "maven", []row{
		{name: "P21 settings server joined to the pom repository by id (qiwa notes)",
			files:  map[string]string{"ci_settings.xml": jobTok, "pom.xml": testPom},
			script: "mvn -s ci_settings.xml package",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 deploy adds distributionManagement as a write (own project)",
			files:  map[string]string{"ci_settings.xml": jobTok, "pom.xml": testPom},
			script: "mvn --settings ci_settings.xml deploy",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job", "pom.xml:11 packages-write id:100 @job"}},
		{name: "P21 settings chosen through an unquoted $MAVEN_CLI_OPTS",
			vars:   []ciconfig.Variable{v("MAVEN_CLI_OPTS", "-s ci_settings.xml --batch-mode", 2)},
			files:  map[string]string{"ci_settings.xml": jobTok, "pom.xml": testPom},
			script: "./mvnw $MAVEN_CLI_OPTS verify",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 no -s and no committed .m2/settings.xml: Maven has no job token",
			files:  map[string]string{"ci_settings.xml": jobTok, "pom.xml": testPom},
			script: "mvn package"},
		{name: "P21 default .m2/settings.xml committed in the repository",
			files:  map[string]string{".m2/settings.xml": jobTok, "pom.xml": testPom},
			script: "mvn package",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 mvnDebug reads the same settings and pom",
			files:  map[string]string{"ci_settings.xml": jobTok, "pom.xml": testPom},
			script: "mvnDebug -s ci_settings.xml package",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 -f chooses the pom",
			files:  map[string]string{"ci_settings.xml": jobTok, "lib/pom.xml": testPom},
			script: "mvn -s ci_settings.xml -f lib package",
			uses:   []string{"lib/pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 settings written by the job with a quoted heredoc (Maven expands ${env.X})",
			files:  map[string]string{"pom.xml": testPom},
			script: "cat > settings.xml <<'EOF'\n" + mvnSettings([3]string{"shared-libs", "Job-Token", "${env.CI_JOB_TOKEN}"}) + "EOF\nmvn -s settings.xml package",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 group endpoint through a settings mirror",
			files: map[string]string{"ci_settings.xml": strings.Replace(jobTok, "</servers>",
				"</servers>\n  <mirrors>\n    <mirror>\n      <id>shared-libs</id>\n      <mirrorOf>*</mirrorOf>\n      <url>https://git.example.org/api/v4/groups/77/-/packages/maven</url>\n    </mirror>\n  </mirrors>", 1)},
			script: "mvn -s ci_settings.xml package",
			uses:   []string{"ci_settings.xml:30 packages-read group:77 @job"}},
		{name: "P21 altDeploymentRepository publishes to another project",
			files:  map[string]string{"ci_settings.xml": jobTok},
			script: "mvn -s ci_settings.xml deploy -DaltDeploymentRepository=gitlab-maven::default::https://git.example.org/api/v4/projects/202/packages/maven",
			uses:   []string{".gitlab-ci.yml:1 packages-write id:202 @job"}},
		{name: "P21 basic auth server with user gitlab-ci-token",
			files:  map[string]string{"pom.xml": testPom, "ci_settings.xml": "<settings><servers><server>\n<id>shared-libs</id>\n<username>gitlab-ci-token</username>\n<password>${env.CI_JOB_TOKEN}</password>\n</server></servers></settings>"},
			script: "mvn -s ci_settings.xml package",
			uses:   []string{"pom.xml:5 packages-read id:1295 @job"}},
		{name: "P21 Private-Token header with the job token will not work",
			files:   map[string]string{"ci_settings.xml": mvnSettings([3]string{"shared-libs", "Private-Token", "${env.CI_JOB_TOKEN}"}), "pom.xml": testPom},
			script:  "mvn -s ci_settings.xml package",
			notes:   []string{"pom.xml:5 will-not-work"},
			noteHas: "private-token header"},
		{name: "§3.2 trap: Private-Token header with a PAT is not a job-token edge",
			files:   map[string]string{"ci_settings.xml": mvnSettings([3]string{"shared-libs", "Private-Token", "${env.GITLAB_TOKEN}"}), "pom.xml": testPom},
			script:  "mvn -s ci_settings.xml package",
			notes:   []string{"pom.xml:5 not-a-job-token-edge"},
			noteHas: "Private-Token header"},
		{name: "§3.2 trap: Deploy-Token header",
			files:  map[string]string{"ci_settings.xml": mvnSettings([3]string{"shared-libs", "Deploy-Token", "${env.DEPLOY_TOKEN}"}), "pom.xml": testPom},
			script: "mvn -s ci_settings.xml package",
			notes:  []string{"pom.xml:5 not-a-job-token-edge"}},
		{name: "hostile input: malformed XML yields no panic and no use",
			files:  map[string]string{"ci_settings.xml": "<settings><servers><server><id>x</id", "pom.xml": "<project><repositories"},
			script: "mvn -s ci_settings.xml package"},
	})
}

func TestGradle(t *testing.T) {
	const kts = `repositories {
    maven("https://git.example.org/api/v4/projects/85/packages/maven") {
        credentials(HttpHeaderCredentials::class) {
            name = "Job-Token"
            value = System.getenv("CI_JOB_TOKEN")
        }
        authentication { create<HttpHeaderAuthentication>("header") }
    }
}
`
	const groovyPublish = `publishing {
    repositories {
        maven {
            url "${System.getenv('CI_API_V4_URL')}/projects/${System.getenv('CI_PROJECT_ID')}/packages/maven"
            credentials(HttpHeaderCredentials) {
                name = 'Job-Token'
                value = System.getenv('CI_JOB_TOKEN')
            }
            authentication { header(HttpHeaderAuthentication) }
        }
    }
}
`
	const fallback = `repositories {
    maven {
        url = uri("https://git.example.org/api/v4/projects/27049637/packages/maven")
        credentials(HttpHeaderCredentials::class) {
            if (System.getenv("PRIVATE_TOKEN") != null) {
                name = "Private-Token"
                value = System.getenv("PRIVATE_TOKEN")
            } else {
                name = "Job-Token"
                value = System.getenv("GITLAB_CIJOB_TOKEN")
            }
        }
    }
}
`
	runRows(t, "maven", []row{
		{name: "P22 Kotlin maven(url) with a Job-Token header",
			files: map[string]string{"build.gradle.kts": kts}, script: "./gradlew build",
			uses: []string{"build.gradle.kts:2 packages-read id:85 @job"}},
		{name: "P22 Groovy publishing block: write only when the job publishes",
			files: map[string]string{"build.gradle": groovyPublish}, script: "./gradlew build\n./gradlew publish",
			uses: []string{"build.gradle:4 packages-write id:100 @job"}},
		{name: "P22 publishing block in a build-only job",
			files: map[string]string{"build.gradle": groovyPublish}, script: "gradle build"},
		{name: "P22 fallback chain with a renamed token variable",
			vars:  []ciconfig.Variable{v("GITLAB_CIJOB_TOKEN", "$CI_JOB_TOKEN", 2)},
			files: map[string]string{"build.gradle.kts": fallback}, script: "./gradlew assemble",
			uses: []string{"build.gradle.kts:3 packages-read id:27049637 @job"}},
		{name: "P22 project property from -P",
			files:  map[string]string{"build.gradle": strings.Replace(kts, `System.getenv("CI_JOB_TOKEN")`, `findProperty("gitLabJobToken")`, 1)},
			script: "gradle build -PgitLabJobToken=$CI_JOB_TOKEN",
			uses:   []string{"build.gradle:2 packages-read id:85 @job"}},
		{name: "P22 group by path without credentials is no use",
			files:  map[string]string{"build.gradle": "repositories {\n  maven { url \"https://git.example.org/api/v4/groups/bladehunt/-/packages/maven\" }\n}\n"},
			script: "gradle build"},
		{name: "P22 Private-Token with a PAT",
			files:  map[string]string{"build.gradle.kts": strings.NewReplacer(`"Job-Token"`, `"Private-Token"`, `"CI_JOB_TOKEN"`, `"GITLAB_PAT"`).Replace(kts)},
			script: "./gradlew build",
			notes:  []string{"build.gradle.kts:2 not-a-job-token-edge"}},
	})
}

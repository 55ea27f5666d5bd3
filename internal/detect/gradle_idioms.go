package detect

import "regexp"

// Gradle reads the job's environment through more spellings than
// System.getenv("X"): Kotlin DSL build logic uses the provider API
// (providers.environmentVariable("X").get(), .orNull, .getOrElse(…)),
// Groovy scripts System.env.X, System.env["X"] and System.getenv().X
// (https://docs.gradle.org/current/userguide/build_environment.html,
// "Environment variables"). gradleEnvIdioms rewrites them into the
// System.getenv("X") form gradleEval evaluates.

var (
	gradleProviderEnvRE = regexp.MustCompile(`(?:project\.)?providers\.environmentVariable\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)(?:\.get\(\)|\.orNull|\.getOrNull\(\)|\.orElse\([^()]*\)|\.getOrElse\([^()]*\))*`)
	gradleGroovyEnvRE   = regexp.MustCompile(`System\.(?:env|getenv\(\))(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\])`)
)

// gradleEnvIdioms rewrites environment reads into System.getenv("X").
func gradleEnvIdioms(expr string) string {
	expr = gradleProviderEnvRE.ReplaceAllString(expr, `System.getenv("$1")`)
	return gradleGroovyEnvRE.ReplaceAllStringFunc(expr, func(m string) string {
		sm := gradleGroovyEnvRE.FindStringSubmatch(m)
		return `System.getenv("` + sm[1] + sm[2] + `")`
	})
}

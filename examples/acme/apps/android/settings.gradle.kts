pluginManagement {
    repositories {
        google()
        gradlePluginPortal()
    }
}

rootProject.name = "acme-android"
include(":app")

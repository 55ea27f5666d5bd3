plugins {
    id("com.android.application")
}

android {
    namespace = "example.acme.android"
    compileSdk = 35
}

dependencies {
    implementation("example.acme:java-commons:1.8.0")
}

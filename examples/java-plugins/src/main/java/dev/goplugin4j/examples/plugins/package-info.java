/**
 * Example go-plugin plugins written in Java with the goplugin4j SDK. Each class is a plugin with a
 * {@code main}; {@code bin/} in the module's {@code target/plugin} holds a launcher per plugin.
 */
package dev.goplugin4j.examples.plugins;

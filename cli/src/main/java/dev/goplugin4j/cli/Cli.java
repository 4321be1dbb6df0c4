package dev.goplugin4j.cli;

import ch.qos.logback.classic.Level;
import dev.goplugin4j.protocol.PluginException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The top-level {@code goplugin4j} command: global options and the subcommands. */
@Command(
    name = "goplugin4j",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    description = "Run HashiCorp go-plugin plugins from the JVM, as processes or in hardened"
        + " containers: check the machine, run a plugin and see what it serves, clean up, build"
        + " a Java plugin's image.",
    subcommandsRepeatable = false,
    synopsisSubcommandLabel = "COMMAND")
final class Cli implements java.util.concurrent.Callable<Integer> {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  private final CliContext ctx;

  @Option(names = {"-v", "--verbose"},
      description = "Log at DEBUG (library and plugin logs) and print stack traces on errors.")
  boolean verbose;

  Cli(CliContext ctx) {
    this.ctx = ctx;
  }

  static CommandLine commandLine(CliContext ctx) {
    Cli top = new Cli(ctx);
    CommandLine cl = new CommandLine(top);
    cl.addSubcommand(new DoctorCommand(ctx));
    cl.addSubcommand(new RunCommand(ctx));
    cl.addSubcommand(new ReapCommand(ctx));
    cl.addSubcommand(new ImageCommand(ctx));
    cl.setOut(new java.io.PrintWriter(ctx.out(), true));
    cl.setErr(new java.io.PrintWriter(ctx.err(), true));
    cl.setExecutionStrategy(parseResult -> {
      setLogLevel(top.verbose ? Level.DEBUG : Level.WARN);
      return new CommandLine.RunLast().execute(parseResult);
    });
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof PluginException || e instanceof IllegalArgumentException
          || e instanceof IllegalStateException) {
        ctx.err().println("goplugin4j: error: " + e.getMessage());
      } else {
        ctx.err().println("goplugin4j: unexpected error: " + e);
      }
      if (top.verbose) {
        e.printStackTrace(ctx.err());
      }
      ctx.err().flush();
      return 1;
    });
    return cl;
  }

  private static void setLogLevel(Level level) {
    org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root instanceof ch.qos.logback.classic.Logger) {
      ((ch.qos.logback.classic.Logger) root).setLevel(level);
    }
  }

  /** Without a command: the usage, and the status of a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(ctx.err());
    return 2;
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Cli.class.getPackage().getImplementationVersion();
      return new String[] {"goplugin4j " + (v == null ? "(development build)" : v)};
    }
  }
}

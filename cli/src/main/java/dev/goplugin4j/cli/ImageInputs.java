package dev.goplugin4j.cli;

import dev.goplugin4j.cli.ImageBuildException.Step;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * The checked inputs of {@code goplugin4j image}: the plugin's jars in class-path order, its main
 * class, the image to build and the JDK to build it with.
 *
 * @param jars the jars, in class-path order, with distinct file names
 * @param mainClass the plugin's main class, found in one of the jars
 * @param image {@code NAME:TAG}
 * @param noCdsImage {@code NAME:TAG} of an extra image without the AppCDS archive, or null
 * @param javaHome the JDK whose runtime goes into the image
 * @param feature its feature version (17 or newer)
 * @param cds whether to train and add an AppCDS archive
 * @param jvmOptions the JVM options before the JDK-specific ones (see {@link ImageRecipe#jvmOptions})
 * @param addModules modules to add to the runtime
 * @param user the image's {@code USER}, numeric {@code UID:GID}
 * @param jdkArchive without AppCDS ({@code cds} false), whether the runtime keeps the JDK's
 *     default CDS archive (12 MB, a faster start) or has no archive at all (the smallest image)
 * @param mergeJars whether the jars go into the image merged into one ({@link JarMerge}; true
 *     unless {@code --keep-jars})
 */
record ImageInputs(List<Path> jars, String mainClass, String image, String noCdsImage,
    Path javaHome, int feature, boolean cds, List<String> jvmOptions, List<String> addModules,
    String user, boolean jdkArchive, boolean mergeJars) {

  /** These inputs with the jars kept as they are ({@code --keep-jars}). */
  ImageInputs keepingJars() {
    return new ImageInputs(jars, mainClass, image, noCdsImage, javaHome, feature, cds, jvmOptions,
        addModules, user, jdkArchive, false);
  }

  /**
   * Collects the jars (each argument a jar or a directory whose {@code *.jar} files are taken in
   * name order; {@code classPath} entries the same) and checks everything.
   *
   * @throws ImageBuildException ({@link Step#INPUTS} or {@link Step#JDK}) naming the problem
   */
  static ImageInputs check(List<Path> jarsOrDirs, String classPath, String mainClass,
      String image, String noCdsImage, Path javaHome, boolean cds, List<String> jvmOptions,
      List<String> addModules) {
    return check(jarsOrDirs, classPath, mainClass, image, noCdsImage, javaHome, cds, jvmOptions,
        addModules, ImageRecipe.DEFAULT_USER);
  }

  /** As above with the image's {@code USER} ({@code UID:GID}, numeric). */
  static ImageInputs check(List<Path> jarsOrDirs, String classPath, String mainClass,
      String image, String noCdsImage, Path javaHome, boolean cds, List<String> jvmOptions,
      List<String> addModules, String user) {
    return check(jarsOrDirs, classPath, mainClass, image, noCdsImage, javaHome, cds, jvmOptions,
        addModules, user, true);
  }

  /**
   * As above; {@code jdkArchive} false (only without AppCDS) leaves every CDS archive out.
   *
   * @throws ImageBuildException ({@link Step#INPUTS}) for AppCDS without the JDK's archive
   */
  static ImageInputs check(List<Path> jarsOrDirs, String classPath, String mainClass,
      String image, String noCdsImage, Path javaHome, boolean cds, List<String> jvmOptions,
      List<String> addModules, String user, boolean jdkArchive) {
    if (!jdkArchive && (cds || noCdsImage != null)) {
      throw new ImageBuildException(Step.INPUTS, "--no-archive leaves out every start-up"
          + " archive: it cannot go with the AppCDS archive or --nocds-image");
    }
    if (user == null || !user.matches("\\d{1,10}:\\d{1,10}")) {
      throw new ImageBuildException(Step.INPUTS, "--user must be a numeric UID:GID, e.g. "
          + ImageRecipe.DEFAULT_USER + "; got \"" + user + "\" (the image has no /etc/passwd)");
    }
    List<Path> sources = new ArrayList<>(jarsOrDirs);
    if (classPath != null && !classPath.isBlank()) {
      for (String e : classPath.split(":")) {
        if (!e.isBlank()) {
          sources.add(Path.of(e));
        }
      }
    }
    List<Path> jars = new ArrayList<>();
    for (Path p : sources) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          List<Path> found = s.filter(f -> f.getFileName().toString().endsWith(".jar"))
              .filter(Files::isRegularFile).sorted().toList();
          if (found.isEmpty()) {
            throw new ImageBuildException(Step.INPUTS, "no *.jar in " + p
                + ": give the directory that holds the plugin's jar and its dependencies"
                + " (e.g. target/plugin/lib after mvn package)");
          }
          jars.addAll(found);
        } catch (IOException e) {
          throw new ImageBuildException(Step.INPUTS, "cannot list " + p + ": " + e, e);
        }
      } else if (Files.isRegularFile(p)) {
        jars.add(p);
      } else {
        throw new ImageBuildException(Step.INPUTS, "no such jar or directory: " + p);
      }
    }
    if (jars.isEmpty()) {
      throw new ImageBuildException(Step.INPUTS, "no jars given: name the plugin's jars or the"
          + " directory that holds them (JAR_OR_DIR, --jar or --classpath)");
    }
    Map<String, Path> names = new HashMap<>();
    for (Path j : jars) {
      Path before = names.putIfAbsent(j.getFileName().toString(), j);
      if (before != null && !before.equals(j)) {
        throw new ImageBuildException(Step.INPUTS, "two jars named " + j.getFileName() + " ("
            + before + " and " + j + "): the image keeps them side by side in " + ImageRecipe.LIB
            + ", so their names must differ");
      }
    }
    jars = jars.stream().distinct().toList();
    if (mainClass == null || !ImageRecipe.isClassName(mainClass)) {
      throw new ImageBuildException(Step.INPUTS, "--main must be the plugin's main class, e.g."
          + " com.example.MyPlugin; got \"" + mainClass + "\"");
    }
    String entry = mainClass.replace('.', '/') + ".class";
    boolean found = false;
    for (Path j : jars) {
      try (ZipFile z = new ZipFile(j.toFile())) {
        if (z.getEntry(entry) != null) {
          found = true;
          break;
        }
      } catch (IOException e) {
        throw new ImageBuildException(Step.INPUTS, j + " is not a readable jar: " + e.getMessage(),
            e);
      }
    }
    if (!found) {
      throw new ImageBuildException(Step.INPUTS, "main class " + mainClass + " not found in the "
          + jars.size() + " jar(s) given (no " + entry + "): check --main and that the plugin's"
          + " own jar is among them");
    }
    for (String ref : noCdsImage == null ? List.of(image) : List.of(image, noCdsImage)) {
      String problem = ref == null ? "is required" : ImageRecipe.checkImageReference(ref);
      if (problem != null) {
        throw new ImageBuildException(Step.INPUTS, "--image " + problem);
      }
    }
    for (String m : addModules) {
      if (!ImageRecipe.isClassName(m)) {
        throw new ImageBuildException(Step.INPUTS, "--add-modules takes module names separated"
            + " by commas, e.g. java.sql,jdk.jfr; got \"" + m + "\"");
      }
    }
    Path home = javaHome.toAbsolutePath().normalize();
    Path release = home.resolve("release");
    int feature;
    try {
      feature = ImageRecipe.featureVersion(Files.readString(release));
    } catch (IOException e) {
      feature = -1;
    }
    if (feature < 0) {
      throw new ImageBuildException(Step.JDK, "cannot read the Java version from " + release
          + ": --java-home must point to a full JDK (17 or newer)");
    }
    if (feature < 17) {
      throw new ImageBuildException(Step.JDK, home + " is Java " + feature
          + ": the plugin SDK needs Java 17 or newer");
    }
    if (!Files.isDirectory(home.resolve("jmods")) && feature < 24) {
      throw new ImageBuildException(Step.JDK, "no " + home.resolve("jmods") + ": jlink needs the"
          + " JDK's jmods to make the runtime; install them (Debian: apt-get install openjdk-"
          + feature + "-jmods) or point --java-home at a JDK that has them");
    }
    return new ImageInputs(List.copyOf(jars), mainClass, image, noCdsImage, home, feature, cds,
        List.copyOf(jvmOptions), List.copyOf(addModules), user, jdkArchive, true);
  }

  /** The jars' file names, in class-path order. */
  List<String> jarNames() {
    return jars.stream().map(j -> j.getFileName().toString()).toList();
  }
}

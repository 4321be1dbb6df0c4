package dev.goplugin4j.cli.docs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The relative links of a Markdown page ({@code [text](target)} and {@code [ref]: target}), and
 * which of them point to no file or to no heading (GitHub's heading anchors). Links in code
 * (fenced blocks, inline code) are not links.
 */
final class MarkdownLinks {
  private static final Pattern INLINE = Pattern.compile("\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
  private static final Pattern REFERENCE = Pattern.compile("(?m)^ {0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
  private static final Pattern FENCE = Pattern.compile("(?ms)^ {0,3}(```|~~~).*?^ {0,3}\\1[^\\n]*$");
  private static final Pattern INLINE_CODE = Pattern.compile("`[^`\\n]*`");
  private static final Pattern HEADING = Pattern.compile("(?m)^ {0,3}#{1,6}\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

  private MarkdownLinks() {}

  /** The page's text without code, where nothing is a link or a heading. */
  private static String withoutCode(String markdown) {
    String noFences = FENCE.matcher(markdown).replaceAll("");
    return INLINE_CODE.matcher(noFences).replaceAll("");
  }

  /** The relative link targets of a page, in order (absolute URLs and mail addresses left out). */
  static List<String> relativeLinks(String markdown) {
    String text = withoutCode(markdown);
    List<String> links = new ArrayList<>();
    for (Pattern p : List.of(INLINE, REFERENCE)) {
      Matcher m = p.matcher(text);
      while (m.find()) {
        String target = m.group(1);
        if (!SCHEME.matcher(target).find()) {
          links.add(target);
        }
      }
    }
    return links;
  }

  /** GitHub's anchors of a page's headings. */
  static Set<String> anchors(String markdown) {
    Set<String> anchors = new HashSet<>();
    Matcher m = HEADING.matcher(FENCE.matcher(markdown).replaceAll(""));
    while (m.find()) {
      String base = m.group(1).toLowerCase(Locale.ROOT)
          .replaceAll("[^\\p{L}\\p{N} _-]", "")
          .replace(' ', '-');
      String anchor = base;
      for (int n = 1; !anchors.add(anchor); n++) {
        anchor = base + "-" + n;
      }
    }
    return anchors;
  }

  /**
   * The page's broken relative links, each as {@code "<page name>: <target> (why)"}.
   *
   * @throws IOException if a page cannot be read
   */
  static List<String> broken(Path page) throws IOException {
    String markdown = Files.readString(page);
    List<String> broken = new ArrayList<>();
    for (String link : relativeLinks(markdown)) {
      int hash = link.indexOf('#');
      String file = hash < 0 ? link : link.substring(0, hash);
      String fragment = hash < 0 ? "" : link.substring(hash + 1);
      Path target = file.isEmpty() ? page : page.toAbsolutePath().getParent().resolve(file).normalize();
      String where = page.getFileName() + ": " + link;
      if (!Files.exists(target)) {
        broken.add(where + " (no such file)");
      } else if (!fragment.isEmpty() && target.toString().endsWith(".md")
          && !anchors(Files.readString(target)).contains(fragment)) {
        broken.add(where + " (no such heading)");
      }
    }
    return broken;
  }
}

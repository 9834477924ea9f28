package io.rabbitkit.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the documentation honest. Every Java block in README.md, CONTRIBUTING.md and docs/ is
 * preceded by {@code <!-- snippet: NAME -->} and shows exactly the code between {@code // tag::NAME[]}
 * and {@code // end::NAME[]} (one or more regions) in the repository's code that a test runs (the
 * {@code *DocIT} classes, {@code QuickStartIT}, the examples their tests drive); every such tag is shown somewhere; every page is linked from
 * the README and every link between pages leads to a file. The README fits a screen.
 *
 * <p>After changing a tagged snippet, {@code mvn -pl toolkit-it test -Dtest=DocSnippetsTest
 * -Drabbitkit.docs.write=true} copies the tests' code into the pages.
 */
class DocSnippetsTest {

  private static final Path ROOT = Path.of("..");
  private static final Pattern BLOCK =
      Pattern.compile("(<!-- snippet: ([\\w.-]+) -->\\s*\\n)?```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern TAG = Pattern.compile("// tag::([\\w.-]+)\\[\\]\\n(.*?)\\n\\s*// end::\\1\\[\\]",
      Pattern.DOTALL);
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s:]+)(#[^)]*)?\\)");
  private static final int README_LINES = 220;

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Path> pages() throws IOException {
    List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("CONTRIBUTING.md")));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    return pages;
  }

  /**
   * Every tagged snippet in the repository's sources, by name, de-indented. A name may tag
   * several regions of one file (to leave out the test's own lines); each is de-indented on its
   * own, then they are joined in order.
   */
  static Map<String, String> tags() throws IOException {
    Map<String, String> raw = new LinkedHashMap<>();
    Map<String, Path> where = new LinkedHashMap<>();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(ROOT, 14)) {
      sources = files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/")
          && !p.toString().contains("/target/")).toList();
    }
    for (Path source : sources) {
      Matcher m = TAG.matcher(read(source));
      while (m.find()) {
        Path first = where.putIfAbsent(m.group(1), source);
        assertTrue(first == null || first.equals(source), "tag " + m.group(1) + " is in " + first + " and " + source);
        raw.merge(m.group(1), deindent(m.group(2)), (a, b) -> a + b);
      }
    }
    return raw;
  }

  private static String deindent(String code) {
    List<String> lines = code.lines().toList();
    int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
        .min().orElse(0);
    return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).collect(Collectors.joining("\n")) + "\n";
  }

  /** Lines stripped, blank lines dropped: indentation and spacing may differ, code may not. */
  static String normalize(String code) {
    return code.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(Collectors.joining("\n"));
  }

  @Test
  void everyJavaBlockIsCodeATestRunsAndEveryTaggedSnippetIsShown() throws IOException {
    Map<String, String> tags = tags();
    boolean write = Boolean.getBoolean("rabbitkit.docs.write");
    List<String> problems = new ArrayList<>();
    Set<String> shown = new TreeSet<>();
    for (Path page : pages()) {
      String text = read(page);
      StringBuilder rewritten = new StringBuilder();
      Matcher m = BLOCK.matcher(text);
      while (m.find()) {
        String name = m.group(2);
        String where = ROOT.relativize(page) + " line " + (text.substring(0, m.start()).lines().count() + 1);
        String code = tags.get(name);
        if (name == null) {
          problems.add(where + ": a Java block without <!-- snippet: NAME --> before it");
        } else if (code == null) {
          problems.add(where + ": no test has // tag::" + name + "[]");
        } else {
          shown.add(name);
          if (!normalize(code).equals(normalize(m.group(3)))) {
            problems.add(where + ": snippet " + name + " differs from its test; the test has:\n" + code);
          }
        }
        String replacement = code == null ? m.group() : m.group(1) + "```java\n" + code + "```";
        m.appendReplacement(rewritten, Matcher.quoteReplacement(replacement));
      }
      m.appendTail(rewritten);
      if (write && !rewritten.toString().equals(text)) {
        Files.writeString(page, rewritten.toString(), StandardCharsets.UTF_8);
      }
    }
    Set<String> unused = new TreeSet<>(tags.keySet());
    unused.removeAll(shown);
    unused.forEach(name -> problems.add("// tag::" + name + "[] is shown on no page"));
    assertTrue(problems.isEmpty() || write, String.join("\n\n", problems));
  }

  @Test
  void everyPageIsLinkedFromTheReadmeAndEveryLinkLeadsToAFile() throws IOException {
    String readme = read(ROOT.resolve("README.md"));
    List<String> problems = new ArrayList<>();
    for (Path page : pages()) {
      String name = ROOT.relativize(page).toString();
      if (!name.equals("README.md") && !readme.contains("](" + name + ")")) {
        problems.add(name + " is not linked from README.md");
      }
      Matcher m = LINK.matcher(read(page));
      while (m.find()) {
        if (!m.group(1).startsWith("http") && !Files.exists(page.getParent().resolve(m.group(1)))) {
          problems.add(name + " links to " + m.group(1) + ", which does not exist");
        }
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void theReadmeFitsAScreen() {
    long lines = read(ROOT.resolve("README.md")).lines().count();
    assertTrue(lines <= README_LINES, "README.md has " + lines + " lines; move detail to a page under docs/");
  }
}

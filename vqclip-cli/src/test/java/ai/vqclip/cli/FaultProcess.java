package ai.vqclip.cli;

import ai.vqclip.core.FaultPoints;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A {@link FaultChild} JVM, its output read as it comes (fault tests). */
final class FaultProcess implements AutoCloseable {
  final Process process;
  final List<String> out = Collections.synchronizedList(new ArrayList<>());
  final List<String> err = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch paused = new CountDownLatch(1);
  private final List<Thread> readers = new ArrayList<>();
  final long started = System.nanoTime();

  /**
   * Starts a child running (or resuming) the runs in {@code dirs}.
   *
   * @param faultPoint {@code NAME:N} to pause at (see {@link FaultPoints}), or null
   * @param jvmArgs more options for the JVM
   */
  FaultProcess(List<Path> dirs, String faultPoint, String... jvmArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // C1 only: these short-lived children start about twice as fast; results do not depend on the JIT.
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Xmx512m");
    cmd.addAll(List.of(jvmArgs));
    if (faultPoint != null) {
      cmd.add("-D" + FaultPoints.PROPERTY + "=" + faultPoint);
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(FaultChild.class.getName());
    dirs.forEach(d -> cmd.add(d.toString()));
    try {
      process = new ProcessBuilder(cmd).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    readers.add(read(process.getInputStream(), out, false));
    readers.add(read(process.getErrorStream(), err, true));
  }

  private Thread read(InputStream in, List<String> lines, boolean watchMarker) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null;) {
          lines.add(line);
          if (watchMarker && line.startsWith(FaultPoints.MARKER + " ")) {
            paused.countDown();
          }
        }
      } catch (IOException e) {
        // the process is gone
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits until the child pauses at its fault point (true) or ends (false). */
  boolean awaitPause(long timeoutSeconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < end) {
      if (paused.await(20, TimeUnit.MILLISECONDS)) {
        return true;
      }
      if (!process.isAlive()) {
        return paused.await(200, TimeUnit.MILLISECONDS);
      }
    }
    throw new AssertionError("the child neither paused nor ended in " + timeoutSeconds + " s; stderr: " + err);
  }

  /** Waits up to {@code millis} for the child to end; true when it has. */
  boolean awaitExit(long millis) throws InterruptedException {
    return process.waitFor(millis, TimeUnit.MILLISECONDS);
  }

  /** kill -9 (Process.destroyForcibly is SIGKILL on Linux); returns the exit status, 137. */
  int kill9() throws InterruptedException {
    try {
      new ProcessBuilder("kill", "-KILL", Long.toString(process.pid())).inheritIO().start().waitFor();
    } catch (IOException e) {
      process.destroyForcibly();
    }
    int status = process.waitFor();
    joinReaders();
    return status;
  }

  /** Lets a paused child go on. */
  void resume() {
    try {
      OutputStream os = process.getOutputStream();
      os.write('\n');
      os.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits for the end (at most {@code seconds}) and returns the exit status. */
  int finish(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the child did not end in " + seconds + " s; stderr: " + err);
    }
    joinReaders();
    return process.exitValue();
  }

  private void joinReaders() throws InterruptedException {
    for (Thread t : readers) {
      t.join(5000);
    }
  }

  /** The exit codes the child printed, by run folder. */
  java.util.Map<String, Integer> exits() {
    java.util.Map<String, Integer> m = new java.util.LinkedHashMap<>();
    synchronized (out) {
      for (String l : out) {
        if (l.startsWith("exit ")) {
          String[] p = l.split(" ");
          m.put(p[1], Integer.parseInt(p[2]));
        }
      }
    }
    return m;
  }

  /** The last step each run reported, by run folder. */
  java.util.Map<String, Integer> lastSteps() {
    java.util.Map<String, Integer> m = new java.util.LinkedHashMap<>();
    synchronized (out) {
      for (String l : out) {
        if (l.startsWith("step ")) {
          String[] p = l.split(" ");
          m.put(p[1], Integer.parseInt(p[2]));
        }
      }
    }
    return m;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}

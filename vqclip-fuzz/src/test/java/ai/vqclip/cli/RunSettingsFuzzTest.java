package ai.vqclip.cli;

import ai.vqclip.fuzz.FuzzFiles;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target of the run settings file ({@code NAME.run.json}, read by {@code vqclip resume}); in
 * this package to reach {@link RunSettings}. Only {@link UsageException} may come out.
 */
class RunSettingsFuzzTest {
  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void runJson(byte[] data) {
    try {
      RunSettings.load(FuzzFiles.write("run.run.json", data));
    } catch (UsageException expected) {
      // the documented failure
    }
  }
}

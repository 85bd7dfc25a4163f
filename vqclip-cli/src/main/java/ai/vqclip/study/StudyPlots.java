package ai.vqclip.study;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The study's PNG plots, drawn with XChart: the loss against the iteration and against the wall
 * time (setup excluded), one line per variant (the mean over its runs) with the spread over runs
 * (one standard deviation) as error bars.
 */
public final class StudyPlots {
  private StudyPlots() {}

  /** Plot width and height in pixels. */
  public static final int WIDTH = 900;

  public static final int HEIGHT = 560;

  /** Writes {@code loss-vs-iteration.png} and {@code loss-vs-time.png} into {@code dir}; returns their names. */
  public static List<String> write(StudyResult result, Path dir, String title) {
    List<StudyResult.Summary> s = result.summaries();
    save(chart(s, title + ": loss by iteration", "iteration", false), dir.resolve("loss-vs-iteration.png"));
    save(chart(s, title + ": loss by wall time", "seconds (setup excluded)", true), dir.resolve("loss-vs-time.png"));
    return List.of("loss-vs-iteration.png", "loss-vs-time.png");
  }

  private static XYChart chart(List<StudyResult.Summary> summaries, String title, String xTitle, boolean time) {
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle("total loss").build();
    c.getStyler().setMarkerSize(0);
    c.getStyler().setErrorBarsColorSeriesColor(true);
    for (StudyResult.Summary s : summaries) {
      int n = s.meanLoss().length;
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = time ? s.meanSeconds()[i] : i;
      }
      boolean spread = s.runs() > 1;
      XYSeries series = spread ? c.addSeries(s.label(), x, s.meanLoss(), s.spreadLoss()) : c.addSeries(s.label(), x, s.meanLoss());
      series.setMarker(SeriesMarkers.NONE);
    }
    return c;
  }

  private static void save(XYChart chart, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write plot " + file + ": " + e.getMessage(), e);
    }
  }
}

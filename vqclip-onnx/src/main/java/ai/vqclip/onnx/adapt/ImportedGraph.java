package ai.vqclip.onnx.adapt;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Specialize;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OnnxImport;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A forward graph read from a user's ONNX file, with the checks and messages the adapters share:
 * every problem names the file, the value, what was found and what is expected.
 */
final class ImportedGraph {
  final Path file;
  final Graph graph;

  private ImportedGraph(Path file, Graph graph) {
    this.file = file;
    this.graph = graph;
  }

  /** Reads {@code file} ({@link ModelLoadException} naming it for a missing, malformed or unsupported file). */
  static ImportedGraph read(Path file, String role) {
    Objects.requireNonNull(file, role + " file");
    Graph g;
    try {
      g = OnnxImport.fromFile(file);
    } catch (ModelLoadException e) {
      throw new ModelLoadException(role + " " + file + ": " + e.getMessage(), e);
    }
    return new ImportedGraph(file, g);
  }

  /**
   * The graph input named {@code name}, or its only input when {@code name} is null.
   *
   * @throws ModelLoadException when there is no such input or, for null, not exactly one
   */
  Value input(String name, String what) {
    List<Value> ins = graph.inputs();
    if (name == null) {
      if (ins.size() != 1) {
        throw new ModelLoadException(file + ": the " + what + " input must be named (the graph has " + ins.size() + " inputs: "
            + names(ins) + ")");
      }
      return ins.get(0);
    }
    for (Value v : ins) {
      if (v.name().equals(name)) {
        return v;
      }
    }
    throw new ModelLoadException(file + ": no input named '" + name + "' for the " + what + "; the graph's inputs are " + names(ins));
  }

  /** The graph output named {@code name}, or its only output when {@code name} is null. */
  Value output(String name, String what) {
    List<Value> outs = graph.outputs();
    if (name == null) {
      if (outs.size() != 1) {
        throw new ModelLoadException(file + ": the " + what + " output must be named (the graph has " + outs.size() + " outputs: "
            + names(outs) + ")");
      }
      return outs.get(0);
    }
    for (Value v : outs) {
      if (v.name().equals(name)) {
        return v;
      }
    }
    throw new ModelLoadException(file + ": no output named '" + name + "' for the " + what + "; the graph's outputs are " + names(outs));
  }

  /** Checks dtype and rank of a value, naming what is expected (e.g. "FLOAT [1, C, h, w]"). */
  void check(Value v, DType dtype, int rank, String expected) {
    if (v.dtype() != dtype || !v.shape().hasRank() || v.rank() != rank) {
      throw new ModelLoadException(file + ": '" + v.name() + "' is " + v.dtype() + " " + v.shape() + "; expected " + expected);
    }
  }

  /** A static dimension of an input or output, or -1 when it is symbolic. */
  static long staticDim(Value v, int axis) {
    Dim d = v.shape().dim(axis);
    return d.isStatic() ? d.size() : -1;
  }

  /**
   * The graph (whose only input is {@code name}) with that input fixed to {@code shape}, folded by {@link Specialize} so every value is static.
   *
   * @throws ModelLoadException naming the file when the shape does not fit or a value stays symbolic
   */
  Graph specialize(String name, long[] shape, String output) {
    Value in = graph.input(name);
    if (graph.inputs().size() != 1) {
      throw new ModelLoadException(file + ": the graph must have exactly one input ('" + name + "'), it has " + names(graph.inputs()));
    }
    if (in.shape().hasRank()) {
      if (in.rank() != shape.length) {
        throw new ModelLoadException(file + ": input '" + name + "' has rank " + in.rank() + ", the run needs " + Arrays.toString(shape));
      }
      for (int i = 0; i < shape.length; i++) {
        long d = staticDim(in, i);
        if (d >= 0 && d != shape[i]) {
          throw new ModelLoadException(file + ": input '" + name + "' is " + in.shape() + ", which is fixed in dimension " + i
              + "; the run needs " + Arrays.toString(shape) + " (export with a dynamic axis there, or use the graph's size)");
        }
      }
    }
    try {
      Graph s = Specialize.withInputShapes(graph, Map.of(name, shape));
      Value out = s.output(output);
      if (!out.shape().isStatic()) {
        throw new ModelLoadException(file + ": output '" + output + "' stays " + out.shape() + " with input '" + name + "' "
            + Arrays.toString(shape));
      }
      return s;
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      throw new ModelLoadException(file + ": cannot specialize to input '" + name + "' " + Arrays.toString(shape) + ": " + e.getMessage(), e);
    }
  }

  static String names(List<Value> vs) {
    return vs.stream().map(Value::toString).toList().toString();
  }
}

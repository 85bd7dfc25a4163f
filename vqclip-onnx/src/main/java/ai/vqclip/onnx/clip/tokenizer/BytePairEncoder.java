package ai.vqclip.onnx.clip.tokenizer;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * BPE of one word with the semantics of CLIP's reference loop — repeatedly take the adjacent pair
 * of lowest merge rank and merge every occurrence of it, left to right, without overlaps — in
 * O(n log n) rather than that loop's O(n²), so that a long word without spaces stays cheap.
 *
 * <p>Symbols form a linked list over their start positions. A priority queue holds candidate pairs
 * keyed by (rank, left position); entries go stale when a neighbour merges and are checked on use.
 * All entries of the lowest rank are taken together and merged in position order, which is the
 * reference loop's left-to-right pass. A merge only creates pairs that contain its result, which
 * is longer than either of its parts, so it never creates another pair of the same rank.
 */
final class BytePairEncoder {
  private BytePairEncoder() {}

  /**
   * The token ids of one word (a regex piece) given as UTF-8 bytes; the last byte's symbol carries
   * {@code </w>}.
   */
  static int[] encode(BpeVocabulary vocab, byte[] word) {
    int n = word.length;
    if (n == 0) {
      return new int[0];
    }
    int[] sym = new int[n];
    int[] next = new int[n];
    int[] prev = new int[n];
    boolean[] alive = new boolean[n];
    for (int i = 0; i < n; i++) {
      sym[i] = i == n - 1 ? vocab.symbolEndId(word[i]) : vocab.symbolId(word[i]);
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
      alive[i] = true;
    }
    if (n == 1) {
      return sym;
    }
    PriorityQueue<long[]> queue =
        new PriorityQueue<>(
            n, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    for (int i = 0; i + 1 < n; i++) {
      offer(queue, vocab, sym, i, i + 1);
    }
    int[] level = new int[n];
    int remaining = n;
    while (!queue.isEmpty()) {
      long rank = queue.peek()[0];
      int count = 0;
      while (!queue.isEmpty() && queue.peek()[0] == rank) {
        level[count++] = (int) queue.poll()[1];
      }
      Arrays.sort(level, 0, count);
      int result = vocab.mergeResult((int) rank);
      for (int k = 0; k < count; k++) {
        int left = level[k];
        int right = alive[left] ? next[left] : -1;
        // Stale when the left symbol merged away or changed, or its neighbour changed.
        if (right < 0 || vocab.rank(sym[left], sym[right]) != rank) {
          continue;
        }
        sym[left] = result;
        alive[right] = false;
        next[left] = next[right];
        if (next[right] >= 0) {
          prev[next[right]] = left;
        }
        remaining--;
        if (prev[left] >= 0) {
          offer(queue, vocab, sym, prev[left], left);
        }
        if (next[left] >= 0) {
          offer(queue, vocab, sym, left, next[left]);
        }
      }
    }
    int[] out = new int[remaining];
    int j = 0;
    for (int i = 0; i >= 0; i = next[i]) {
      out[j++] = sym[i];
    }
    return out;
  }

  private static void offer(PriorityQueue<long[]> queue, BpeVocabulary vocab, int[] sym, int left, int right) {
    int rank = vocab.rank(sym[left], sym[right]);
    if (rank >= 0) {
      queue.add(new long[] {rank, left});
    }
  }
}

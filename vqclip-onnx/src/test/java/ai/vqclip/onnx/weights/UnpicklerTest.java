package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.Pickle.Bytes;
import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.Pickle.Obj;
import ai.vqclip.onnx.weights.Pickle.Tuple;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnpicklerTest {
  @TempDir Path dir;

  private static final Unpickler.PersistentLoader NO_PERSISTENT = pid -> {
    throw new ModelLoadException("no persistent ids here");
  };

  private static Object load(byte[] b) {
    return Unpickler.load(PickleInput.of(b, "test"), NO_PERSISTENT);
  }

  /**
   * {'a': [1, 2.5, None, True, False], 'b': (1, 2, 3, 4), 't1': (7,), 'c': 'ü€', 'big': 2**70,
   * 'neg': -5, 'n300': 300, 'n70000': 70000, 'bytes': b'xy', 'set': {1}, 'fs': frozenset({2}),
   * 'nested': {'k': (1, 'x')}} as CPython 3.11's pickle.dumps writes it at protocols 0 to 5.
   */
  private static final String[] PYTHON_PICKLES = {
    "286470300a56610a70310a286c70320a49310a6146322e350a614e614930310a614930300a617356620a70330a2849310a49320a49330a49340a7470340a735674310a70350a2849370a7470360a7356630a70370a56fc5c75323061630a70380a73566269670a70390a4c313138303539313632303731373431313330333432344c0a73566e65670a7031300a492d350a73566e3330300a7031310a493330300a73566e37303030300a7031320a4937303030300a735662797465730a7031330a635f636f646563730a656e636f64650a7031340a285678790a7031350a566c6174696e310a7031360a747031370a527031380a73567365740a7031390a635f5f6275696c74696e5f5f0a7365740a7032300a28286c7032310a49310a61747032320a527032330a735666730a7032340a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7032350a28286c7032360a49320a61747032370a527032380a73566e65737465640a7032390a28647033300a566b0a7033310a2849310a56780a7033320a747033330a73732e",
    "7d71002858010000006171015d7102284b014740040000000000004e4930310a4930300a655801000000627103284b014b024b034b04747104580200000074317105284b0774710658010000006371075805000000c3bce282ac7108580300000062696771094c313138303539313632303731373431313330333432344c0a58030000006e6567710a4afbffffff58040000006e333030710b4d2c0158060000006e3730303030710c4a7011010058050000006279746573710d635f636f646563730a656e636f64650a710e2858020000007879710f58060000006c6174696e31711074711152711258030000007365747113635f5f6275696c74696e5f5f0a7365740a7114285d71154b0161747116527117580200000066737118635f5f6275696c74696e5f5f0a66726f7a656e7365740a7119285d711a4b026174711b52711c58060000006e6573746564711d7d711e58010000006b711f284b01580100000078712074712173752e",
    "80027d71002858010000006171015d7102284b014740040000000000004e8889655801000000627103284b014b024b034b047471045802000000743171054b0785710658010000006371075805000000c3bce282ac7108580300000062696771098a0900000000000000004058030000006e6567710a4afbffffff58040000006e333030710b4d2c0158060000006e3730303030710c4a7011010058050000006279746573710d635f636f646563730a656e636f64650a710e58020000007879710f58060000006c6174696e31711086711152711258030000007365747113635f5f6275696c74696e5f5f0a7365740a71145d71154b0161857116527117580200000066737118635f5f6275696c74696e5f5f0a66726f7a656e7365740a71195d711a4b026185711b52711c58060000006e6573746564711d7d711e58010000006b711f4b01580100000078712086712173752e",
    "80037d71002858010000006171015d7102284b014740040000000000004e8889655801000000627103284b014b024b034b047471045802000000743171054b0785710658010000006371075805000000c3bce282ac7108580300000062696771098a0900000000000000004058030000006e6567710a4afbffffff58040000006e333030710b4d2c0158060000006e3730303030710c4a7011010058050000006279746573710d43027879710e5803000000736574710f636275696c74696e730a7365740a71105d71114b0161857112527113580200000066737114636275696c74696e730a66726f7a656e7365740a71155d71164b026185711752711858060000006e657374656471197d711a58010000006b711b4b01580100000078711c86711d73752e",
    "800495ae000000000000007d94288c0161945d94284b014740040000000000004e8889658c016294284b014b024b034b0474948c027431944b0785948c0163948c05c3bce282ac948c03626967948a090000000000000000408c036e6567944afbffffff8c046e333030944d2c018c066e3730303030944a701101008c0562797465739443027879948c03736574948f94284b01908c02667394284b0291948c066e6573746564947d948c016b944b018c017894869473752e",
    "800595ae000000000000007d94288c0161945d94284b014740040000000000004e8889658c016294284b014b024b034b0474948c027431944b0785948c0163948c05c3bce282ac948c03626967948a090000000000000000408c036e6567944afbffffff8c046e333030944d2c018c066e3730303030944a701101008c0562797465739443027879948c03736574948f94284b01908c02667394284b0291948c066e6573746564947d948c016b944b018c017894869473752e",
  };

  @Test
  void readsPythonPicklesOfEveryProtocol() {
    for (int p = 0; p < PYTHON_PICKLES.length; p++) {
      Object o = load(HexFormat.of().parseHex(PYTHON_PICKLES[p]));
      Map<?, ?> m = assertInstanceOf(Map.class, o, "protocol " + p);
      assertEquals(java.util.Arrays.asList(1L, 2.5, null, true, false), m.get("a"), "protocol " + p);
      assertEquals(Tuple.of(1L, 2L, 3L, 4L), m.get("b"));
      assertEquals(Tuple.of(7L), m.get("t1"));
      assertEquals("\u00fc\u20ac", m.get("c"), "protocol " + p);
      assertEquals(BigInteger.ONE.shiftLeft(70), m.get("big"));
      assertEquals(-5L, m.get("neg"));
      assertEquals(300L, m.get("n300"));
      assertEquals(70000L, m.get("n70000"));
      assertEquals(new Bytes("xy".getBytes(StandardCharsets.US_ASCII)), m.get("bytes"), "protocol " + p);
      assertEquals(Set.of(1L), m.get("set"), "protocol " + p);
      assertEquals(Set.of(2L), m.get("fs"), "protocol " + p);
      assertEquals(Map.of("k", Tuple.of(1L, "x")), m.get("nested"));
    }
  }

  private static byte[] pickle(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
      } else if (p instanceof Integer i) {
        b.write(i);
      } else {
        b.writeBytes((byte[]) p);
      }
    }
    return b.toByteArray();
  }

  private static byte[] binunicode(String s) {
    byte[] u = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[5 + u.length];
    out[0] = 'X';
    out[1] = (byte) u.length;
    out[2] = (byte) (u.length >>> 8);
    System.arraycopy(u, 0, out, 5, u.length);
    return out;
  }

  @Test
  void osSystemReduceIsAnInertPlaceholder() throws Exception {
    Path marker = dir.resolve("pwned");
    byte[] evil = pickle(0x80, 2, "cos\nsystem\n", binunicode("touch " + marker), 0x85, "R.");
    Obj o = assertInstanceOf(Obj.class, load(evil));
    assertEquals(new Global("os", "system"), o.global());
    assertEquals(Tuple.of("touch " + marker), o.args);
    // STACK_GLOBAL + NEWOBJ + BUILD on other dangerous names: placeholders too
    byte[] evil2 = pickle(0x80, 4, 0x8c, 10, "subprocess", 0x8c, 5, "Popen", 0x93, ")", 0x81, "}b.");
    Obj p = assertInstanceOf(Obj.class, load(evil2));
    assertEquals("subprocess.Popen", p.global().qualified());
    byte[] evil3 = pickle(0x80, 2, "cbuiltins\neval\n", binunicode("__import__('os').system('touch " + marker + "')"),
        0x85, "R", ")R.");
    Obj q = assertInstanceOf(Obj.class, load(evil3));
    assertInstanceOf(Obj.class, q.callee);
    assertFalse(Files.exists(marker), "nothing may run while unpickling");
    // as a dict key it stays hashable
    byte[] keyed = pickle(0x80, 2, "}cos\nsystem\n", "K\u0001s.");
    assertEquals(Map.of(new Global("os", "system"), 1L), load(keyed));
  }

  @Test
  void truncatedStreamsFailCleanly() {
    byte[] full = HexFormat.of().parseHex(PYTHON_PICKLES[2]);
    for (int n = 0; n < full.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(full, n);
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> load(cut), "prefix " + n);
      assertTrue(e.getMessage().contains("test"), e.getMessage());
    }
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> load(pickle(0x80, 2, "X", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, "abc")));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("4294967295"), e.getMessage());
    e = assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 4, 0x8e, new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) 0x80})));
    assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
  }

  @Test
  void rejectsMalformedOperations() {
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, "h\u0005.")))
        .getMessage().contains("memo key 5"));
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, ".")))
        .getMessage().contains("underflow"));
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, 0xff)))
        .getMessage().contains("unknown opcode 0xff"));
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 9, "N.")))
        .getMessage().contains("protocol 9"));
    // a list as a dict key, and a list containing itself used as a key
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, "}]K\u0001s.")))
        .getMessage().contains("unhashable"));
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, "}]q\u0000h\u0000a0h\u0000K\u0001s.")))
        .getMessage().contains("unhashable"));
    // tuples nested far too deep for a dict key
    ByteArrayOutputStream deep = new ByteArrayOutputStream();
    deep.writeBytes(new byte[] {(byte) 0x80, 2, '}', 'N'});
    for (int i = 0; i < 10_000; i++) {
      deep.write(0x85);
    }
    deep.writeBytes(new byte[] {'K', 1, 's', '.'});
    assertTrue(assertThrows(ModelLoadException.class, () -> load(deep.toByteArray()))
        .getMessage().contains("nested"));
    assertTrue(assertThrows(ModelLoadException.class, () -> load(pickle(0x80, 2, "K\u0001)R.")))
        .getMessage().contains("not callable"));
  }

  @Test
  void randomCorruptionNeverEscapesAsAnotherException() {
    byte[] full = HexFormat.of().parseHex(PYTHON_PICKLES[2]);
    Random r = new Random(42);
    int ok = 0;
    for (int trial = 0; trial < 3000; trial++) {
      byte[] b = full.clone();
      int flips = 1 + r.nextInt(4);
      for (int i = 0; i < flips; i++) {
        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      }
      try {
        load(b);
        ok++;
      } catch (ModelLoadException e) {
        // expected for most corruptions
      }
    }
    assertTrue(ok < 3000, "some corruptions must be detected");
  }

  @Test
  void reducesWhitelistedCallables() {
    // OrderedDict() with SETITEMS then BUILD(_metadata) stays a plain mapping of the items
    byte[] od = pickle(0x80, 2, "ccollections\nOrderedDict\n)R(", binunicode("w"), "K\u0002u}",
        binunicode("_metadata"), "Nsb.");
    assertEquals(Map.of("w", 2L), load(od));
    byte[] size2 = pickle(0x80, 2, "ctorch\nSize\n](K\u0003K\u0004e\u0085R.");
    assertEquals(Tuple.of(3L, 4L), load(size2));
    byte[] intlist = pickle(0x80, 2, "ctorch.jit._pickle\nbuild_intlist\n](K\u0001K\u0002e\u0085R.");
    assertEquals(List.of(1L, 2L), load(intlist));
  }
}

package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.vqclip.core.Tensor;
import ai.vqclip.onnx.weights.TorchWriters.TorchTensor;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The test writers' pickles are byte-identical to what CPython's pickler emits for torch.save. */
class PickleWriterTest {
  /**
   * CPython 3.11 {@code pickle.Pickler(protocol=2)} with torch's persistent_id and
   * Tensor.__reduce_ex__ (_rebuild_tensor_v2, empty OrderedDict hooks) emulated, for an OrderedDict
   * {a: float32[2,3], b: float16[4], c: int64 scalar, d: a view of a's storage at offset 1, e: a again}.
   */
  private static final String CPYTHON =
      "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580100000061710263746f7263682e5f"
          + "7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a"
          + "466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b03"
          + "4b0186710a8968002952710b74710c52710d580100000062710e68032828680463746f7263680a48616c6653746f72616765"
          + "0a710f580100000031711068074b04747111514b004b048571124b0185711389680029527114747115527116580100000063"
          + "711768032828680463746f7263680a4c6f6e6753746f726167650a7118580100000032711968074b0174711a514b00292989"
          + "68002952711b74711c52711d580100000064711e6803282868046805680668074b0674711f514b014b028571204b01857121"
          + "896800295271227471235271245801000000657125680d752e";

  @Test
  void stateDictPickleMatchesCPython() {
    Map<Object, Object> sd = new LinkedHashMap<>();
    TorchTensor a = TorchTensor.of(Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
    sd.put("a", a);
    sd.put("b", TorchTensor.of(WeightTestData.halves(new long[] {4}, 1, 2, 3, 4)));
    sd.put("c", TorchTensor.of(Tensor.ofLongs(new long[0], 5)));
    sd.put("d", new TorchTensor(a.storage, 1, new long[] {2}, new long[] {1}));
    sd.put("e", a);
    byte[] mine = new TorchWriters.TorchPickler(false).dump(new PickleWriter.OrderedDict(sd));
    assertEquals(CPYTHON, HexFormat.of().formatHex(mine));
  }
}

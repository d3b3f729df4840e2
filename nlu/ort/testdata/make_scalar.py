"""Writes scalar.onnx, the rank-0 tensor fixture of nlu/ort's scalar tests.

y = x * float(k) + g and twice = k + k, where k (int64) and g (float32) and
twice are rank-0 tensors. Run with the training venv:
    .venv/bin/python nlu/ort/testdata/make_scalar.py
"""

from pathlib import Path

import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    [
        helper.make_node("Cast", ["k"], ["kf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x", "kf"], ["xk"]),
        helper.make_node("Add", ["xk", "g"], ["y"]),
        helper.make_node("Add", ["k", "k"], ["twice"]),
    ],
    "scalar",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"]),
        helper.make_tensor_value_info("k", TensorProto.INT64, []),
        helper.make_tensor_value_info("g", TensorProto.FLOAT, []),
    ],
    [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"]),
        helper.make_tensor_value_info("twice", TensorProto.INT64, []),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="switchboard")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, Path(__file__).with_name("scalar.onnx"))

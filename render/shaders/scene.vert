#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(location = 0) in vec3 in_position;
layout(location = 1) in vec3 in_normal;
layout(location = 2) in vec2 in_uv;

layout(location = 0) out vec3 out_position;  // camera frame
layout(location = 1) out vec3 out_normal;    // camera frame
layout(location = 2) out vec2 out_uv;

void main() {
  vec4 p = draw.modelview * vec4(in_position, 1.0);
  out_position = p.xyz;
  out_normal = mat3(draw.modelview) * in_normal;  // rigid transforms: the rotation is its own inverse transpose
  out_uv = in_uv;
  gl_Position = view.projection * p;
}

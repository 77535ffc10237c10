#version 450
// Depth-only pass into one layer of the shadow-map array.

layout(location = 0) in vec3 in_position;

layout(push_constant) uniform Draw { mat4 model_to_clip; } draw;

void main() { gl_Position = draw.model_to_clip * vec4(in_position, 1.0); }

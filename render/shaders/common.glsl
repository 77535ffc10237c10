// Shared by the scene shaders; mirrors render/gpu_layout.h (std140 / push constants). Everything a draw or a
// view needs is uniform (a push constant or a uniform buffer at a dynamic offset): CPU drivers such as lavapipe
// then load it once per draw instead of once per pixel.

#define MAX_LIGHTS 4

struct Light {
  vec4 radiance;       // rgb: colour * intensity (linear)
  vec4 vector;         // xyz: direction the light travels (directional) or position (point), camera frame
  // Directional: camera frame -> shadow map (xy in [0, 1], depth in [0, 1]). Point: camera -> world rotation.
  mat4 shadow;
  ivec4 info;  // x: 0 directional, 1 point; y: (first) shadow map layer or -1
  // x: directional normal offset (m); y: point normal offset per metre from the light; z, w: point near, far (m)
  vec4 shadow_params;
};

layout(std140, set = 0, binding = 0) uniform View {
  mat4 projection;  // camera frame -> clip
  vec4 ambient;     // rgb: ambient light; a surface of albedo a shows a * ambient (linear, before exposure)
  vec4 params;      // x: exposure, y: number of lights
  Light lights[MAX_LIGHTS];
} view;

layout(push_constant) uniform Draw {
  mat4 modelview;   // shape frame -> camera frame
  vec4 albedo;      // material colour * the mesh file's own colour (linear)
  float roughness;
  uint segment;     // segmentation id
} draw;

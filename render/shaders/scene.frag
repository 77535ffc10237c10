#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(location = 0) in vec3 in_position;
layout(location = 1) in vec3 in_normal;
layout(location = 2) in vec2 in_uv;

layout(set = 0, binding = 1) uniform sampler2DArrayShadow shadow_maps;
layout(set = 1, binding = 0) uniform sampler2D albedo_texture;

layout(location = 0) out vec4 out_color;  // sRGB attachment: written linear, stored encoded
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_segment;

const float PI = 3.14159265358979;

// Pipeline variants: a view's light set and a draw's texturing are known when the draw is recorded, so the
// shader is specialised for them. CPU drivers (lavapipe) run both sides of every branch under a lane mask, so a
// light loop bounded at run time, or a skipped shadow lookup, would cost every pixel as if taken.
layout(constant_id = 0) const int NUM_LIGHTS = 0;
layout(constant_id = 1) const int SHADOW_MASK = 0;  // bit i: light i has a shadow map
layout(constant_id = 2) const int POINT_MASK = 0;   // bit i: light i is a point light (else directional)
layout(constant_id = 3) const bool TEXTURED = false;

// Four taps half a texel apart, each the hardware's 2x2 comparison filter: a 3x3-texel soft edge.
float FilteredShadow(vec2 uv, float layer, float depth) {
  vec2 half_texel = 0.5 / vec2(textureSize(shadow_maps, 0).xy);
  return 0.25 * (texture(shadow_maps, vec4(uv + vec2(-half_texel.x, -half_texel.y), layer, depth)) +
                 texture(shadow_maps, vec4(uv + vec2(half_texel.x, -half_texel.y), layer, depth)) +
                 texture(shadow_maps, vec4(uv + vec2(-half_texel.x, half_texel.y), layer, depth)) +
                 texture(shadow_maps, vec4(uv + vec2(half_texel.x, half_texel.y), layer, depth)));
}

// A directional light's orthographic map. Points are pushed along the normal by about a texel against acne.
float DirectionalShadow(int i, vec3 p, vec3 n) {
  vec4 s = view.lights[i].shadow * vec4(p + n * view.lights[i].shadow_params.x, 1.0);
  float lit = FilteredShadow(s.xy, float(view.lights[i].info.y), s.z);
  return s.z >= 1.0 ? 1.0 : lit;  // beyond the map's far plane: lit
}

// A point light's cube (render/projection.h, PointShadowFaces): the face whose axis is the largest component of
// the offset from the light, in world axes.
const float CUBE_FACE_SCALE = 1.05;
float PointShadow(int i, vec3 p, vec3 n) {
  vec3 to_p = p - view.lights[i].vector.xyz;
  vec4 params = view.lights[i].shadow_params;
  vec3 d = mat3(view.lights[i].shadow) * (to_p + n * (params.y * length(to_p)));
  vec3 a = abs(d);
  float face;
  float z;
  vec2 xy;
  if (a.x >= a.y && a.x >= a.z) {
    face = d.x > 0.0 ? 0.0 : 1.0;
    z = a.x;
    xy = d.yz;
  } else if (a.y >= a.z) {
    face = d.y > 0.0 ? 2.0 : 3.0;
    z = a.y;
    xy = d.zx;
  } else {
    face = d.z > 0.0 ? 4.0 : 5.0;
    z = a.z;
    xy = d.xy;
  }
  vec2 uv = 0.5 * xy / (z * CUBE_FACE_SCALE) + 0.5;
  float depth = params.w / (params.w - params.z) * (1.0 - params.z / z);
  float lit = FilteredShadow(uv, float(view.lights[i].info.y) + face, depth);
  return depth >= 1.0 ? 1.0 : lit;
}

// Narkowicz's fit of the ACES filmic curve: highlights roll off instead of clipping.
vec3 ToneMap(vec3 x) {
  return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
}

void main() {
  vec4 albedo = draw.albedo;
  if (TEXTURED) albedo *= texture(albedo_texture, in_uv);
  vec3 n = normalize(in_normal);
  if (!gl_FrontFacing) n = -n;  // thin and open meshes show both sides
  vec3 v = normalize(-in_position);

  // Blinn-Phong with energy-conserving normalisation; roughness r maps to the exponent 2 / r^4 - 2 (the
  // Beckmann-equivalent of GGX alpha = r^2); Schlick's Fresnel with F0 = 0.04 (dielectrics).
  float r = clamp(draw.roughness, 0.03, 1.0);
  float alpha = r * r;
  float shininess = max(2.0 / (alpha * alpha) - 2.0, 1.0);
  vec3 radiance = view.ambient.rgb * albedo.rgb;
  for (int i = 0; i < MAX_LIGHTS; ++i) {
    if (i >= NUM_LIGHTS) break;
    vec3 l;
    vec3 irradiance = view.lights[i].radiance.rgb;
    vec3 light_vector = view.lights[i].vector.xyz;
    if ((POINT_MASK & (1 << i)) == 0) {
      l = -normalize(light_vector);
    } else {
      vec3 d = light_vector - in_position;
      float d2 = max(dot(d, d), 1e-6);
      l = d * inversesqrt(d2);
      irradiance /= d2;
    }
    float n_dot_l = max(dot(n, l), 0.0);
    float lit = 1.0;
    if ((SHADOW_MASK & (1 << i)) != 0) {
      lit = (POINT_MASK & (1 << i)) != 0 ? PointShadow(i, in_position, n) : DirectionalShadow(i, in_position, n);
    }
    vec3 h = normalize(l + v);
    float m = 1.0 - max(dot(h, v), 0.0);
    float m2 = m * m;
    float fresnel = 0.04 + 0.96 * m2 * m2 * m;
    float specular = fresnel * (shininess + 8.0) / (8.0 * PI) * pow(max(dot(n, h), 0.0), shininess);
    radiance += (albedo.rgb / PI + vec3(specular)) * irradiance * (n_dot_l * lit);
  }
  out_color = vec4(ToneMap(radiance * view.params.x), 1.0);
  out_depth = in_position.z;
  out_segment = draw.segment;
}

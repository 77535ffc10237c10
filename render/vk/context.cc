#include "render/vk/context.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "render/render_error.h"
#include "render/vk/check.h"

namespace r2s::render::vk {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool HasLayer(const char* name) {
  std::uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  return std::any_of(layers.begin(), layers.end(),
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

int TypeRank(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 3;
    default:
      return 4;
  }
}

struct Candidate {
  VkPhysicalDevice device = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  std::uint32_t queue_family = 0;
  std::string unusable;  // why not, or empty
};

Candidate Examine(VkPhysicalDevice device) {
  Candidate c;
  c.device = device;
  vkGetPhysicalDeviceProperties(device, &c.properties);
  if (c.properties.apiVersion < VK_API_VERSION_1_3) {
    c.unusable = "Vulkan " + std::to_string(VK_API_VERSION_MAJOR(c.properties.apiVersion)) + "." +
                 std::to_string(VK_API_VERSION_MINOR(c.properties.apiVersion)) + " < 1.3";
    return c;
  }
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f13};
  vkGetPhysicalDeviceFeatures2(device, &features);
  if (!f13.dynamicRendering || !f13.synchronization2) {
    c.unusable = "no dynamicRendering or synchronization2";
    return c;
  }
  std::uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  for (std::uint32_t i = 0; i < count; ++i) {
    if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
      c.queue_family = i;
      return c;
    }
  }
  c.unusable = "no graphics queue";
  return c;
}

}  // namespace

Context::Context(const ContextOptions& options) {
  if (options.validation && !HasLayer(kValidationLayer)) {
    throw RenderError(RenderError::Kind::kVulkan, std::string("validation was asked for but ") + kValidationLayer +
                                                      " is not installed (Debian: vulkan-validationlayers)");
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "real2sim";
  app.pEngineName = "r2s::render";
  app.apiVersion = VK_API_VERSION_1_3;

  VkDebugUtilsMessengerCreateInfoEXT messenger_info{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger_info.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info.pfnUserCallback = &Context::OnMessage;
  messenger_info.pUserData = this;

  std::vector<const char*> layers, extensions;
  if (options.validation) {
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkInstanceCreateInfo instance_info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  instance_info.pNext = options.validation ? &messenger_info : nullptr;  // also covers instance creation itself
  instance_info.pApplicationInfo = &app;
  instance_info.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  instance_info.ppEnabledLayerNames = layers.data();
  instance_info.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  instance_info.ppEnabledExtensionNames = extensions.data();
  Check(vkCreateInstance(&instance_info, nullptr, &instance_), "vkCreateInstance");

  try {
    if (options.validation) {
      auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
      Check(create(instance_, &messenger_info, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
    }

    std::uint32_t count = 0;
    Check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    Check(vkEnumeratePhysicalDevices(instance_, &count, devices.data()), "vkEnumeratePhysicalDevices");
    if (devices.empty()) {
      throw RenderError(RenderError::Kind::kNoDevice,
                        "no Vulkan device: the loader found no driver with a device. Without a GPU, install Mesa's "
                        "lavapipe (Debian mesa-vulkan-drivers); VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/"
                        "lvp_icd.x86_64.json selects it");
    }
    std::vector<Candidate> usable;
    std::string seen;
    for (VkPhysicalDevice d : devices) {
      Candidate c = Examine(d);
      seen += std::string(seen.empty() ? "" : "; ") + c.properties.deviceName +
              (c.unusable.empty() ? "" : " (unusable: " + c.unusable + ")");
      const bool named =
          options.device.empty() || std::string(c.properties.deviceName).find(options.device) != std::string::npos;
      if (c.unusable.empty() && named) usable.push_back(c);
    }
    if (usable.empty()) {
      throw RenderError(RenderError::Kind::kNoDevice,
                        "no usable Vulkan device" +
                            (options.device.empty() ? std::string() : " named like '" + options.device + "'") +
                            " (the renderer needs Vulkan 1.3 with dynamic rendering); devices: " + seen);
    }
    std::stable_sort(usable.begin(), usable.end(), [](const Candidate& a, const Candidate& b) {
      return TypeRank(a.properties.deviceType) < TypeRank(b.properties.deviceType);
    });
    const Candidate& chosen = usable.front();
    physical_device_ = chosen.device;
    queue_family_ = chosen.queue_family;
    device_name_ = chosen.properties.deviceName;
    limits_ = chosen.properties.limits;
    vkGetPhysicalDeviceMemoryProperties(physical_device_, &memory_);

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queue_info.queueFamilyIndex = queue_family_;
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;
    VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
    f13.dynamicRendering = VK_TRUE;
    f13.synchronization2 = VK_TRUE;
    VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    device_info.pNext = &f13;
    device_info.queueCreateInfoCount = 1;
    device_info.pQueueCreateInfos = &queue_info;
    Check(vkCreateDevice(physical_device_, &device_info, nullptr, &device_), "vkCreateDevice");
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  } catch (...) {
    Destroy();
    throw;
  }
}

Context::~Context() { Destroy(); }

void Context::Destroy() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
  }
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    destroy(instance_, messenger_, nullptr);
    messenger_ = VK_NULL_HANDLE;
  }
  if (instance_ != VK_NULL_HANDLE) {
    vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
  }
}

std::uint32_t Context::FindMemoryType(std::uint32_t type_bits, VkMemoryPropertyFlags required,
                                      VkMemoryPropertyFlags preferred) const {
  int fallback = -1;
  for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags flags = memory_.memoryTypes[i].propertyFlags;
    if (!(type_bits & (1u << i)) || (flags & required) != required) continue;
    if ((flags & preferred) == preferred) return i;
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  if (fallback < 0) {
    throw RenderError(RenderError::Kind::kOutOfMemory, "Vulkan: device '" + device_name_ +
                                                           "' has no memory type with flags " +
                                                           std::to_string(required) + " for this resource");
  }
  return static_cast<std::uint32_t>(fallback);
}

VkMemoryPropertyFlags Context::MemoryTypeFlags(std::uint32_t type) const {
  return memory_.memoryTypes[type].propertyFlags;
}

void Context::ThrowIfValidationFailed() {
  std::lock_guard<std::mutex> lock(messages_mutex_);
  if (messages_.empty()) return;
  std::string text = "Vulkan validation layer (" + std::to_string(messages_.size()) + " message" +
                     (messages_.size() == 1 ? "" : "s") + "):";
  for (const std::string& m : messages_) text += "\n  " + m;
  messages_.clear();
  throw RenderError(RenderError::Kind::kValidation, text);
}

VKAPI_ATTR VkBool32 VKAPI_CALL Context::OnMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                  VkDebugUtilsMessageTypeFlagsEXT /*type*/,
                                                  const VkDebugUtilsMessengerCallbackDataEXT* data, void* self) {
  auto* context = static_cast<Context*>(self);
  std::lock_guard<std::mutex> lock(context->messages_mutex_);
  context->messages_.push_back(
      std::string(severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error: " : "warning: ") +
      (data && data->pMessage ? data->pMessage : "(no text)"));
  return VK_FALSE;
}

}  // namespace r2s::render::vk
